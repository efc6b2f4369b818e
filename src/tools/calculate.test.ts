import { describe, expect, it } from 'vitest';
import { calculate, calculateExpression } from './calculate.ts';
import { ToolError, type ToolContext } from './types.ts';

function refusal(expression: string): string {
  try {
    calculateExpression(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError);
    return (error as ToolError).message;
  }
  throw new Error(`'${expression}' was evaluated, but should have been refused`);
}

describe('calculate', () => {
  it('does arithmetic with operator precedence', () => {
    expect(calculateExpression('2+3*4')).toEqual({ expression: '2+3*4', result: '14', value: 14 });
    expect(calculateExpression('(2 + 3) * 4 ^ 2 / 8')).toMatchObject({ value: 10 });
    expect(calculateExpression('10 mod 3').value).toBe(1);
    expect(calculateExpression('5!').value).toBe(120);
  });

  it('calls allowed functions and knows constants', () => {
    expect(calculateExpression('sqrt(16)')).toMatchObject({ result: '4', value: 4 });
    expect(calculateExpression('round(pi, 3)').value).toBe(3.142);
    expect(calculateExpression('mean(1, 2, 3, 4)').value).toBe(2.5);
    expect(calculateExpression('sin(pi / 2)').value).toBe(1);
    expect(calculateExpression('log(1000, 10)').result).toBe('3');
  });

  it('formats with 14 significant digits', () => {
    expect(calculateExpression('1/3')).toMatchObject({ result: '0.33333333333333', value: 1 / 3 });
    expect(calculateExpression('0.1 + 0.2').result).toBe('0.3');
  });

  it('converts units and returns no plain value for them', () => {
    const result = calculateExpression('10 km to miles');
    expect(result.result).toBe('6.2137119223733 miles');
    expect(result.value).toBeUndefined();
    expect(calculateExpression('5 cm + 2 inch').result).toBe('10.08 cm');
  });

  it('handles complex numbers, booleans and small matrices', () => {
    expect(calculateExpression('sqrt(-4)').result).toBe('2i');
    expect(calculateExpression('3 > 2').result).toBe('true');
    expect(calculateExpression('det([[1, 2], [3, 4]])').value).toBe(-2);
    expect(calculateExpression('[[1, 2], [3, 4]] * [1, 1]').result).toBe('[3, 7]');
    expect(calculateExpression('inv([[2, 0], [0, 4]])').result).toBe('[[0.5, 0], [0, 0.25]]');
  });

  it('refuses syntax errors and undefined symbols with a clear message', () => {
    expect(refusal('2 +')).toMatch(/^Cannot calculate '2 \+': Unexpected end of expression/);
    expect(refusal('foo + 1')).toMatch(/Undefined symbol foo/);
    expect(refusal('nosuchfunction(2)')).toMatch(/Undefined function nosuchfunction/);
  });

  it('refuses non-finite results', () => {
    expect(refusal('1/0')).toMatch(/not a finite number/);
    expect(refusal('0/0')).toMatch(/not a finite number/);
    expect(refusal('10^400')).toMatch(/not a finite number/);
    expect(refusal('1e308 kg * 1e10')).toMatch(/not a finite number/);
  });

  it('refuses the functions mathjs says to disable', () => {
    for (const expression of [
      'import({x: 1})',
      'createUnit("foo")',
      'evaluate("1")',
      'parse("1")',
      'compile("1")',
      'simplify("x + x")',
      'derivative("x^2", "x")',
      'resolve("x")',
      'reviver("x")',
    ]) {
      expect(refusal(expression)).toMatch(/is not available in this calculator/);
    }
  });

  it('refuses functions that allocate or loop in proportion to a number', () => {
    for (const expression of [
      'zeros(1e5, 1e5)',
      'ones(1e9)',
      'identity(1e5)',
      'range(1, 1e9)',
      'matrix([1, 2])',
      'sparse([1, 2])',
      'diag([1, 2])',
      'random()',
      'randomInt(1, 10)',
      'pickRandom([1, 2])',
      'resize([1], [1e9])',
      'nthRoots(3, 1e7)',
      'isPrime(9007199254740881)',
      'zeta(0.5 + 1e9i)',
      'combinations(1e9, 5e8)',
      'format(1, 1e9)',
      'config({number: "BigNumber"})',
    ]) {
      expect(refusal(expression)).toMatch(/is not available in this calculator/);
    }
    // A function passed as a value is refused like one that is called.
    expect(refusal('max(evaluate)')).toMatch(/'evaluate' is not available/);
  });

  it('refuses ranges, assignments, definitions, blocks and deep arrays', () => {
    expect(refusal('1:1e9')).toMatch(/Ranges/);
    expect(refusal('x = 5')).toMatch(/Variables and function definitions/);
    expect(refusal('f(x) = f(x) + 1')).toMatch(/Variables and function definitions/);
    expect(refusal('1; 2')).toMatch(/one expression/);
    expect(refusal('[[[1]]]')).toMatch(/at most 2 dimensions/);
    expect(refusal('{a: 1}')).toMatch(/ObjectNode/);
  });

  it('refuses prototype and constructor tricks', () => {
    for (const expression of [
      'cos.constructor("return process")()',
      'cos["constructor"]("return process")()',
      'sqrt.constructor',
      'constructor',
      '__proto__',
      '[1].constructor',
      'unit.prototype',
    ]) {
      expect(() => calculateExpression(expression)).toThrow(ToolError);
    }
  });

  it('refuses a bare function', () => {
    expect(refusal('sqrt')).toMatch(/that is a function/);
  });

  it('keeps its guards after refusing something', () => {
    refusal('import({evaluate: 1}, {override: true})');
    expect(refusal('evaluate("1")')).toMatch(/not available/);
    expect(calculateExpression('1 + 1').value).toBe(2);
  });

  it('works as a tool, with its input validated', async () => {
    const context = {} as ToolContext;
    await expect(calculate.execute({ expression: '2 ^ 10' }, context)).resolves.toEqual({
      expression: '2 ^ 10',
      result: '1024',
      value: 1024,
    });
    await expect(calculate.execute({ expression: 'evaluate("1")' }, context)).rejects.toThrow(
      ToolError,
    );
    expect(calculate.inputSchema.safeParse({ expression: '1+'.repeat(300) }).success).toBe(false);
    expect(calculate.inputSchema.safeParse({ expression: '' }).success).toBe(false);
  });
});
