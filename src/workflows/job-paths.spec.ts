import { withoutServerPaths } from './job-paths';

describe('withoutServerPaths', () => {
  const job = '/var/lib/alidade/jobs/5b1c';
  const roots = [job, `${job}/workflow`];

  it('makes paths relative to the workflow, then to the job directory', () => {
    expect(withoutServerPaths(`ENOENT: no such file or directory, open '${job}/workflow/src/MLproject'`, roots)).toBe(
      "ENOENT: no such file or directory, open 'src/MLproject'",
    );
    expect(withoutServerPaths(`EACCES: permission denied, mkdir '${job}/plugins'`, roots)).toBe("EACCES: permission denied, mkdir 'plugins'");
    expect(withoutServerPaths(`extractArchive: ${job}/workflow is not empty`, roots)).toBe('extractArchive: . is not empty');
    expect(withoutServerPaths(`python train.py --data-dir ${job}/workflow/data --out '${job}/workflow/a b'`, roots)).toBe("python train.py --data-dir data --out 'a b'");
  });

  it('leaves other paths and longer names alone', () => {
    expect(withoutServerPaths(`/dioptra/data and ${job}0/x`, roots)).toBe(`/dioptra/data and ${job}0/x`);
    expect(withoutServerPaths('exit code 1', roots)).toBe('exit code 1');
  });
});
