import { DataSource } from 'typeorm';
import { countStatements, JobTrace, withTrace } from './job-trace';

describe('JobTrace', () => {
  it('prints stages as name=<ms>ms/<statements>q and a total (the format npm run bench parses)', () => {
    const t = new JobTrace();
    t.record('pickup', 4.5);
    t.sql = 2;
    t.mark('claim');
    t.mark('process');
    expect(t.toString()).toMatch(/^pickup=4\.50ms\/0q claim=\d+\.\d\dms\/2q process=\d+\.\d\dms\/0q total=\d+\.\d\dms\/2q$/);
  });

  it("counts a data source's statements on the trace of the job whose work sent them, not on another's", async () => {
    const logged: string[] = [];
    const ds = { logger: { logQuery: (q: string) => void logged.push(q) } } as unknown as DataSource;
    countStatements(ds);
    countStatements(ds); // once per data source, however often asked
    const a = new JobTrace();
    const b = new JobTrace();
    await Promise.all([
      withTrace(a, async () => {
        ds.logger.logQuery('SELECT 1');
        await new Promise((r) => setTimeout(r, 5));
        ds.logger.logQuery('SELECT 2');
      }),
      withTrace(b, async () => ds.logger.logQuery('SELECT 3')),
    ]);
    ds.logger.logQuery('SELECT outside');
    expect([a.sql, b.sql]).toEqual([2, 1]);
    expect(logged).toHaveLength(4);
  });
});
