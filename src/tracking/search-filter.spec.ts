import { TrackingInvalidError } from './tracking.errors';
import { parseFilter, parseOrderBy } from './search-filter';
import { normpath, validateParam, validateTag } from './tracking-validation';

describe('search filter', () => {
  it('parses AND-joined clauses over metrics, params, tags and attributes', () => {
    expect(parseFilter("metrics.acc >= 0.9 and params.`learning rate` = '0.01' AND tags.\"team name\" LIKE 'r%' AND attributes.status != 'FAILED'")).toEqual([
      { type: 'metric', key: 'acc', comparator: '>=', value: 0.9 },
      { type: 'parameter', key: 'learning rate', comparator: '=', value: '0.01' },
      { type: 'tag', key: 'team name', comparator: 'LIKE', value: 'r%' },
      { type: 'attribute', key: 'status', comparator: '!=', value: 'FAILED' },
    ]);
    expect(parseFilter("run_id IN ('a', 'b') and created > 5 and params.x IS NULL")).toEqual([
      { type: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
      { type: 'attribute', key: 'start_time', comparator: '>', value: 5 },
      { type: 'parameter', key: 'x', comparator: 'IS NULL' },
    ]);
    expect(parseFilter('  ')).toEqual([]);
  });

  it.each([
    ["params.x = '1' OR params.x = '2'", "Invalid clause(s) in filter string: 'OR'"],
    ['params.x = 1', "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"],
    ["metrics.acc > '1'", "Expected numeric value type for metric. Found '1'"],
    ["foo.x = '1'", "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"],
    ["metrics.acc LIKE '1'", 'Expected numeric value type for metric. Found'],
    ["tags.x > 'a'", "Invalid comparator '>' not one of"],
    ["status IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ["params.x = 'open", "Invalid filter 'params.x = 'open'. Could not be parsed."],
  ])('refuses %s', (filter, message) => {
    expect(() => parseFilter(filter)).toThrow(TrackingInvalidError);
    expect(() => parseFilter(filter)).toThrow(message);
  });

  it('parses order_by with direction, refusing unknown attributes', () => {
    expect(parseOrderBy(['metrics.acc DESC', 'start_time', 'params.`a b` asc'])).toEqual([
      { type: 'metric', key: 'acc', ascending: false },
      { type: 'attribute', key: 'start_time', ascending: true },
      { type: 'parameter', key: 'a b', ascending: true },
    ]);
    expect(() => parseOrderBy(['nope'])).toThrow("Invalid order by key 'nope' specified.");
    expect(() => parseOrderBy(['metrics.acc sideways'])).toThrow("Invalid order_by clause 'metrics.acc sideways'. Could not be parsed.");
  });
});

describe('MLflow key and value rules', () => {
  it('normpath as Python', () => {
    expect(['a/./b', 'a//b', '/a', '../a', 'a/..', '.', '', 'a/b/'].map(normpath)).toEqual(['a/b', 'a/b', '/a', '../a', '.', '.', '.', 'a/b']);
  });

  it('refuses keys that are not unique paths or have odd characters, truncates long values', () => {
    expect(() => validateParam('a/../b', 'v')).toThrow("This name would resolve to 'b'");
    expect(() => validateParam('a$', 'v')).toThrow('Names may only contain alphanumerics');
    expect(() => validateParam('k'.repeat(251), 'v')).toThrow("'Param key' exceeds the maximum length of 250 characters");
    expect(validateParam('k', 'v'.repeat(7000)).value).toHaveLength(6000);
    expect(validateTag('mlflow.source.name', 'x'.repeat(9000)).value).toHaveLength(8000);
    expect(validateParam('métrique 1:a/b', 1)).toEqual({ key: 'métrique 1:a/b', value: '1' });
  });
});
