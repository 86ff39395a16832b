import { DomainError } from '../common/errors/domain-error';
import { applyFieldMask, FieldMaskParseError, parseFieldMask, readDioptraBody } from './dioptra-http';

class Invalid extends DomainError {
  constructor(reason: string) {
    super('QUEUE_NAME_INVALID', reason);
  }
}
const invalid = (reason: string) => new Invalid(reason);

describe('readDioptraBody', () => {
  it('accepts a parsed JSON or form object with known keys', () => {
    expect(readDioptraBody({ name: 'x' }, ['name'], invalid)).toEqual({ name: 'x' });
    expect(readDioptraBody(Object.assign(Object.create(null), { name: 'x' }), ['name'], invalid)).toEqual({ name: 'x' });
  });

  it('parses JSON text (text/plain or no Content-Type) and a JSON text sent as a urlencoded key', () => {
    expect(readDioptraBody('{"name": "x"}', ['name'], invalid)).toEqual({ name: 'x' });
    expect(readDioptraBody(Buffer.from(' {"name":"y"} '), ['name'], invalid)).toEqual({ name: 'y' });
    expect(readDioptraBody({ '{"name":"z"}': '' }, ['name'], invalid)).toEqual({ name: 'z' });
  });

  it('treats no body as an empty record', () => {
    expect(readDioptraBody(undefined, ['name'], invalid)).toEqual({});
    expect(readDioptraBody('  ', ['name'], invalid)).toEqual({});
  });

  it('refuses unknown keys (file parts too), non-objects and bad JSON with the given error', () => {
    expect(() => readDioptraBody({ name: 'x', queueId: 1 }, ['name'], invalid)).toThrow(/unknown field "queueId"/);
    expect(() => readDioptraBody({ name: 'x' }, ['name'], invalid, [{ fieldname: 'file' }])).toThrow(Invalid);
    expect(() => readDioptraBody('[1]', ['name'], invalid)).toThrow(Invalid);
    expect(() => readDioptraBody('"name"', ['name'], invalid)).toThrow(Invalid);
    expect(() => readDioptraBody('{"name":', ['name'], invalid)).toThrow(Invalid);
    // A reserved key is refused by the input guards (VALIDATION_FAILED, which the Dioptra face words as the form's error).
    expect(() => readDioptraBody('{"__proto__": {"x": 1}}', ['name'], invalid)).toThrow(/__proto__ is not an accepted field name/);
  });
});

describe('X-Fields masks', () => {
  const row = { experimentId: 1, name: 'a', createdOn: 't', nested: { a: 1, b: 2 }, list: [{ a: 1, b: 2 }] };

  it('parses plain and braced lists, nesting and wildcards', () => {
    expect([...parseFieldMask('name,experimentId')!.keys()]).toEqual(['name', 'experimentId']);
    expect([...parseFieldMask('{name, experimentId}')!.keys()]).toEqual(['name', 'experimentId']);
    expect(parseFieldMask('nested{a}')!.get('nested')).toEqual(new Map([['a', true]]));
    expect(parseFieldMask('   ')).toBeNull();
  });

  it('rejects unbalanced brackets', () => {
    for (const bad of ['{name', 'name}', 'a{b', '{a}}', '{b']) expect(() => parseFieldMask(bad)).toThrow(FieldMaskParseError);
  });

  it('applies to objects and lists; absent keys become null; * keeps the rest', () => {
    expect(applyFieldMask(row, parseFieldMask('name,experimentId')!)).toEqual({ name: 'a', experimentId: 1 });
    expect(applyFieldMask([row, row], parseFieldMask('{name}')!)).toEqual([{ name: 'a' }, { name: 'a' }]);
    expect(applyFieldMask(row, parseFieldMask('nested{b},list{a}')!)).toEqual({ nested: { b: 2 }, list: [{ a: 1 }] });
    expect(applyFieldMask(row, parseFieldMask('missing')!)).toEqual({ missing: null });
    expect(applyFieldMask(row, parseFieldMask('name,*')!)).toEqual(row);
  });
});
