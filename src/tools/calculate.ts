import { all, create, type MathJsInstance, type MathNode } from 'mathjs';
import { z } from 'zod';
import { defineTool, ToolError } from './types.ts';

/*
 * Safety model. mathjs never calls JavaScript's eval and guards property access itself, but its
 * full namespace still lets an expression re-enter the parser (`evaluate`, `parse`, `simplify`),
 * change the instance (`import`, `createUnit`, `config`) or spend unbounded memory and CPU on a
 * single number (`zeros(1e5, 1e5)`, `nthRoots(3, 1e7)`, `isPrime(9007199254740881)`,
 * `zeta(0.5 + 1e9i)`). So, in two layers:
 *
 * 1. Before evaluation, the parsed tree must consist of plain expression nodes (no assignments,
 *    function definitions, ranges, indexing or objects), arrays of at most two dimensions, and
 *    calls only to the functions in `allowedFunctions`, whose cost is bounded by the size of their
 *    arguments, which the 500-character limit bounds in turn.
 * 2. As mathjs's security guide recommends, the dangerous functions are replaced on the instance by
 *    stubs that throw, so even an expression that slipped past the first layer could not reach them.
 */

const maxExpressionLength = 500;
const maxResultLength = 2_000;
const maxArrayDimensions = 2;

/** The functions an expression may call, named or through an operator (`+` is `add`). */
const allowedFunctions = new Set([
  // arithmetic and operators
  'abs', 'add', 'subtract', 'multiply', 'divide', 'mod', 'pow', 'sqrt', 'cbrt', 'nthRoot',
  'exp', 'expm1', 'log', 'log10', 'log2', 'log1p', 'ceil', 'floor', 'fix', 'round', 'sign',
  'square', 'cube', 'unaryMinus', 'unaryPlus', 'gcd', 'lcm', 'hypot', 'norm', 'factorial',
  'dotMultiply', 'dotDivide', 'dotPow', 'nullish',
  // trigonometry
  'sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'asin', 'acos', 'atan', 'atan2', 'asec', 'acsc',
  'acot', 'sinh', 'cosh', 'tanh', 'sech', 'csch', 'coth', 'asinh', 'acosh', 'atanh', 'asech',
  'acsch', 'acoth',
  // complex numbers and special functions
  're', 'im', 'arg', 'conj', 'complex', 'gamma', 'lgamma', 'erf',
  // statistics over the given values
  'min', 'max', 'mean', 'median', 'mode', 'sum', 'prod', 'std', 'variance', 'mad', 'cumsum',
  // comparison and logic
  'equal', 'unequal', 'larger', 'largerEq', 'smaller', 'smallerEq', 'compare', 'and', 'or',
  'not', 'xor', 'bitAnd', 'bitOr', 'bitXor', 'bitNot', 'leftShift', 'rightArithShift',
  'rightLogShift',
  // units and conversions
  'to', 'unit', 'number', 'toBest', 'splitUnit', 'bin', 'hex', 'oct',
  // small vectors and matrices written out in the expression
  'transpose', 'ctranspose', 'det', 'inv', 'dot', 'cross', 'trace',
]); // prettier-ignore

/**
 * Replaced by throwing stubs: mathjs's security list (parser re-entry, instance changes), then
 * functions that allocate or loop in proportion to a number argument, or re-enter the parser.
 * `config` cannot be stubbed (array literals read `config.matrix` at compile time); only the
 * allow-list keeps expressions from calling it.
 */
const disabledFunctions = [
  'import', 'createUnit', 'reviver', 'evaluate', 'parse', 'simplify', 'derivative', 'resolve',
  'compile', 'parser', 'help', 'chain', 'simplifyConstant', 'simplifyCore', 'rationalize',
  'symbolicEqual', 'leafCount',
  'zeros', 'ones', 'identity', 'range', 'matrix', 'sparse', 'diag', 'random', 'randomInt',
  'pickRandom', 'resize', 'reshape', 'subset', 'index', 'concat', 'kron', 'matrixFromFunction',
  'matrixFromRows', 'matrixFromColumns', 'setCartesian', 'setPowerset', 'quantileSeq', 'freqz',
  'solveODE', 'map', 'forEach', 'filter', 'mapSlices', 'apply', 'format', 'print',
  'bignumber', 'fraction', 'bigint', 'nthRoots', 'bernoulli', 'zeta', 'isPrime',
  'combinations', 'combinationsWithRep', 'permutations', 'stirlingS2', 'bellNumbers', 'catalan',
  'composition', 'multinomial',
]; // prettier-ignore

interface Calculator {
  math: MathJsInstance;
  parse(expression: string): MathNode;
  format(value: unknown): string;
}

let calculator: Calculator | undefined;

/** The restricted mathjs instance, built on first use rather than at import time. */
function getCalculator(): Calculator {
  if (calculator) return calculator;
  // Array literals evaluate to plain arrays, so `matrix` can be disabled without breaking them.
  if (!all) throw new Error('mathjs exports no factories');
  const math = create(all, { matrix: 'Array' });
  // mathjs resolves its functions lazily, each taking its dependencies from the namespace when
  // first used. Resolve them all now, so none picks up a stub below as a dependency.
  for (const name of Object.keys(math)) void (math as unknown as Record<string, unknown>)[name];
  const { parse, format } = math;
  const stubs = Object.fromEntries(
    disabledFunctions.map((name) => [
      name,
      function disabled(): never {
        throw new ToolError(`Function '${name}' is not available in this calculator.`);
      },
    ]),
  );
  math.import(stubs, { override: true });
  calculator = {
    math,
    parse: (expression) => parse(expression),
    format: (value) => format(value, { precision: 14 }),
  };
  return calculator;
}

/** Throws a ToolError for the first node of the tree that is not allowed. */
function checkTree(math: MathJsInstance, node: MathNode, arrayDepth = 0): void {
  let depth = arrayDepth;
  if (math.isSymbolNode(node)) {
    checkSymbol(math, node.name);
  } else if (math.isFunctionNode(node)) {
    if (!math.isSymbolNode(node.fn)) {
      throw new ToolError('Only named functions such as sqrt(16) can be called.');
    }
  } else if (math.isArrayNode(node)) {
    depth += 1;
    if (depth > maxArrayDimensions) {
      throw new ToolError(`Arrays may have at most ${maxArrayDimensions} dimensions.`);
    }
  } else if (math.isOperatorNode(node)) {
    if (!allowedFunctions.has(node.fn)) {
      throw new ToolError(`Operator '${node.op}' is not available in this calculator.`);
    }
  } else if (
    !math.isConstantNode(node) &&
    !math.isParenthesisNode(node) &&
    !math.isConditionalNode(node) &&
    !math.isRelationalNode(node)
  ) {
    throw new ToolError(unsupportedNodeMessage(node.type));
  }
  node.forEach((child) => checkTree(math, child, depth));
}

/**
 * A symbol is a function (allowed ones only), a constant of the namespace such as `pi` or
 * `speedOfLight`, or something mathjs resolves itself: a unit, or an undefined symbol it reports.
 */
function checkSymbol(math: MathJsInstance, name: string): void {
  if (allowedFunctions.has(name) || !Object.hasOwn(math, name)) return;
  const value: unknown = (math as unknown as Record<string, unknown>)[name];
  if (typeof value === 'function') {
    throw new ToolError(`Function '${name}' is not available in this calculator.`);
  }
}

function unsupportedNodeMessage(type: string): string {
  switch (type) {
    case 'AssignmentNode':
    case 'FunctionAssignmentNode':
      return "Variables and function definitions are not supported; write one expression such as '2 * (3 + 4)'.";
    case 'BlockNode':
      return 'Only one expression at a time is supported.';
    case 'RangeNode':
      return "Ranges such as '1:10' are not supported.";
    case 'AccessorNode':
    case 'IndexNode':
      return 'Indexing and property access are not supported.';
    default:
      return `Expressions of type '${type}' are not supported.`;
  }
}

function isFiniteResult(math: MathJsInstance, value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isFiniteResult(math, item));
  if (math.isComplex(value)) return Number.isFinite(value.re) && Number.isFinite(value.im);
  if (math.isUnit(value)) return value.value === null || isFiniteResult(math, value.value);
  return true;
}

export interface CalculationResult {
  expression: string;
  /** The result as mathjs formats it, 14 significant digits, with its unit if any. */
  result: string;
  /** The result as a number, when it is a plain finite number. */
  value?: number;
}

/** Evaluates one arithmetic expression on the restricted instance; failures are ToolErrors. */
export function calculateExpression(expression: string): CalculationResult {
  const { math, parse, format } = getCalculator();
  const fail = (reason: string, cause?: unknown): never => {
    throw new ToolError(`Cannot calculate '${expression}': ${reason}`, { cause });
  };

  let result: unknown;
  try {
    const tree = parse(expression);
    checkTree(math, tree);
    result = tree.compile().evaluate({});
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(reason, error);
  }

  if (result === undefined) return fail('the expression is empty.');
  if (typeof result === 'function') return fail('that is a function; call it, as in sqrt(16).');
  if (!isFiniteResult(math, result)) {
    return fail('the result is not a finite number (division by zero or overflow?).');
  }
  const formatted = format(result);
  if (formatted.length > maxResultLength) {
    return fail(`the result is too long to return (${formatted.length} characters).`);
  }
  return typeof result === 'number'
    ? { expression, result: formatted, value: result }
    : { expression, result: formatted };
}

/** Safe arithmetic with mathjs, never JavaScript eval. */
export const calculate = defineTool({
  name: 'calculate',
  description:
    'Evaluate one math expression exactly instead of guessing: + - * / ^ mod and parentheses, ' +
    'functions such as sqrt, sin, log, round, gcd, mean, median, factorial, constants such as pi ' +
    "and e, unit conversions such as '10 km to miles', complex numbers, and small vectors or " +
    'matrices written out, e.g. det([[1, 2], [3, 4]]). No variables or assignments.',
  inputSchema: z.object({
    expression: z
      .string()
      .min(1)
      .max(maxExpressionLength)
      .describe("The expression, e.g. '2 + 3 * 4' or '10 km to miles'."),
  }),
  async execute({ expression }) {
    return calculateExpression(expression);
  },
});
