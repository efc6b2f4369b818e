/**
 * Arithmetic in a message, for the calculate tool: expressions in symbols or spelled operators.
 */

const FUNCTION_NAMES =
  'sqrt|cbrt|abs|exp|log10|log2|log|ln|sin|cos|tan|asin|acos|atan|round|floor|ceil|min|max|pow|factorial';
const EXPRESSION_RUN = new RegExp(
  String.raw`(?:\b(?:${FUNCTION_NAMES})\s*\(|\bpi\b|\d+(?:\.\d+)?|\.\d+|[-+*/^%().!,]|[ \t])+`,
  'gi',
);
const MATH_TRIGGER =
  /(?:calculate|compute|evaluate|solve|work out|what(?:'s| is)|whats|how much is|how much are)\s+(?:the\s+)?(?:(?:value|result|answer|sum|product)\s+of\s+)?:?\s*$/i;

/**
 * Arithmetic the message asks for: an expression right after "what is", "calculate"… (or the
 * whole message, or chained to one with "and"). Spelled operators become symbols first.
 */
export function findExpressions(message: string): { at: number; expression: string }[] {
  const text = message
    .replaceAll(/\bsquare root of\s+(\d+(?:\.\d+)?)/gi, 'sqrt($1)')
    .replaceAll(/([\d)])\s*[x×]\s*(?=[\d(])/g, '$1 * ')
    .replaceAll('÷', '/')
    .replaceAll('−', '-')
    .replaceAll(
      /([\d)])\s+(plus|minus|times|multiplied by|divided by|over|to the power of)\s+(?=[-\d(.]|[a-z]+\s*\()/gi,
      (_, before: string, word: string) => `${before} ${SPELLED_OPERATORS[word.toLowerCase()]} `,
    )
    .replaceAll(/([\d)])\s+squared\b/gi, '$1^2')
    .replaceAll(/([\d)])\s+cubed\b/gi, '$1^3');

  const found: { at: number; end: number; expression: string }[] = [];
  for (const run of text.matchAll(EXPRESSION_RUN)) {
    for (const piece of splitTopLevelCommas(run[0], run.index)) {
      const leading = piece.text.length - piece.text.trimStart().length;
      const expression = balanceParentheses(piece.text.trim().replace(/[\s.]+$/, '')).replaceAll(
        /\s+/g,
        ' ',
      );
      const at = piece.at + leading;
      if (!isArithmetic(expression)) continue;
      const before = text.slice(0, at);
      const chained =
        found.length > 0 &&
        /^[\s,;]*(?:and|then|&)?[\s,;]*$/i.test(text.slice(found.at(-1)?.end, at));
      const whole =
        /^[\s?!.=:]*$/.test(before) && /^[\s?!.=:]*$/.test(text.slice(at + expression.length));
      if (MATH_TRIGGER.test(before) || chained || whole) {
        found.push({ at, end: at + piece.text.trim().length, expression });
      }
    }
  }
  const unique = found.filter(
    (entry, index) => found.findIndex((other) => other.expression === entry.expression) === index,
  );
  return unique.slice(0, 3).map(({ at, expression }) => ({ at, expression }));
}

const SPELLED_OPERATORS: Record<string, string> = {
  plus: '+',
  minus: '-',
  times: '*',
  'multiplied by': '*',
  'divided by': '/',
  over: '/',
  'to the power of': '^',
};

/** Commas outside parentheses end an expression, except thousands separators (1,000). */
function splitTopLevelCommas(run: string, offset: number): { at: number; text: string }[] {
  const pieces: { at: number; text: string }[] = [];
  let depth = 0;
  let start = 0;
  let current = '';
  for (let index = 0; index < run.length; index += 1) {
    const char = run[index];
    if (char === '(') depth += 1;
    if (char === ')') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0) {
      if (/^\d{3}(?!\d)/.test(run.slice(index + 1)) && /\d$/.test(current)) continue;
      pieces.push({ at: offset + start, text: current });
      start = index + 1;
      current = '';
      continue;
    }
    current += char;
  }
  pieces.push({ at: offset + start, text: current });
  return pieces;
}

function balanceParentheses(expression: string): string {
  let result = expression;
  const count = (char: string) => [...result].filter((each) => each === char).length;
  while (count(')') > count('(') && result.endsWith(')')) result = result.slice(0, -1).trimEnd();
  while (count('(') > count(')') && result.startsWith('(')) result = result.slice(1).trimStart();
  return result;
}

function isArithmetic(expression: string): boolean {
  if (!/\d|\bpi\b/i.test(expression)) return false;
  if (/^\d{4}-\d{2}-\d{2}$/.test(expression)) return false; // a date, not a subtraction
  return (
    /[\d)!a-z.]\s*[-+*/^%]\s*[-\d(.a-z]/i.test(expression) ||
    /\b[a-z]+\d*\s*\(/i.test(expression) ||
    /\d\s*!/.test(expression)
  );
}
