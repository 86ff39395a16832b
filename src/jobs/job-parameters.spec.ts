import { parseParametersField } from './job-parameters';

describe('parseParametersField', () => {
  it('accepts strings, numbers and booleans as strings', () => {
    expect(parseParametersField('{"a":"x y","b":3,"c":0.5,"d":true}')).toEqual({ a: 'x y', b: '3', c: '0.5', d: 'true' });
    expect(parseParametersField('{}')).toEqual({});
  });

  it.each(['', 'nope', '[]', '"s"', '3', 'null'])('refuses %p as not an object', (text) => {
    expect(() => parseParametersField(text)).toThrow(/JSON object/);
  });

  it('refuses nested values and bad names, naming the key', () => {
    expect(() => parseParametersField('{"a":{"b":1}}')).toThrow(/'a'/);
    expect(() => parseParametersField('{"a":null}')).toThrow(/'a'/);
    expect(() => parseParametersField('{"1x":"v"}')).toThrow(/'1x'/);
    expect(() => parseParametersField('{"a b":"v"}')).toThrow(/'a b'/);
  });
});
