// More escapes from real jobs of an ordinary (non-admin) user, beyond test/sandbox.e2e-spec.ts: the ways a hostile job
// could starve the worker or the server (inodes, log volume, connections through the tracking forward, tmpfs), use
// its job token beyond its own run, or outlive its end. Each job tries one thing; the test asserts what a client sees.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/common/net';
import { JobProcess } from '../src/sandbox/job-process';
import { Job, lines, logsOf, submit, waitFor, waitForJob } from './fixtures/runner-kit';
import { makeTarGz } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';

const WORKFLOW = makeTarGz({
  MLproject: [
    'name: escapes',
    'entry_points:',
    '  sh:',
    '    parameters:',
    '      script: string',
    '    command: bash -c {script}',
    '  py:',
    '    parameters:',
    '      code: string',
    '    command: python3 -c {code}',
    '',
  ].join('\n'),
});

const processes = () => execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
const openFds = () => readdirSync('/proc/self/fd').length;

describe('job sandbox: more escapes of a hostile non-admin job', () => {
  let t: TestApp;
  let admin: string;
  let mallory: string;
  let tmp: string;
  let workdir: string;
  const grace = JobProcess.killGraceMs;

  const run = (token: string, entryPoint: string, parameters: Record<string, string>, timeout?: string, experimentName = 'mallory') =>
    submit(t, token, { experimentName, queue: 'box', entryPoint, parameters, timeout }, WORKFLOW);
  const sh = (script: string, timeout?: string) => run(mallory, 'sh', { script }, timeout);
  const py = (code: string, timeout?: string) => run(mallory, 'py', { code }, timeout);
  const ended = (job: Job) => waitForJob(t, admin, job.id, undefined, 60_000);
  const out = async (job: Job) => lines(await logsOf(t, admin, job.id), 'stdout');

  beforeAll(async () => {
    JobProcess.killGraceMs = 1000;
    tmp = mkdtempSync(join(tmpdir(), 'alidade-escapes-'));
    const dataDir = join(tmp, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'jwt-secret'), 'escapes-secret-0123456789abcdef0123456789', { mode: 0o600 });
    workdir = join(tmp, 'jobs');
    const port = await freePort();
    t = await startApp({
      role: 'all',
      env: {
        WORKER_QUEUES: 'box',
        WORKER_CONCURRENCY: '4',
        PORT: String(port),
        DATA_DIR: dataDir,
        JOB_WORKDIR: workdir,
        JOB_SANDBOX: 'bwrap',
        JOB_MEMORY_LIMIT: '128M',
        JOB_PIDS_LIMIT: '64',
        JOB_DISK_LIMIT: '48M',
        JOB_FSIZE_LIMIT: '32M',
        JOB_FILES_LIMIT: '10000',
        JOB_LOG_LIMIT: '1M',
        JOB_ENV: JSON.stringify({ MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}` }),
      },
    });
    await new Promise<void>((r) => t.app.getHttpServer().listen(port, '127.0.0.1', () => r()));
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    mallory = (await createUser(t, admin, 'mallory')).token;
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'box' }).expect(201);
    for (const [token, name] of [[admin, 'victim'], [mallory, 'mallory']]) await t.http().post('/api/v1/experiments').set(bearer(token)).send({ name }).expect(201);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    JobProcess.killGraceMs = grace;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('cannot exhaust the inodes of the job file system with empty files: "file count limit" fails the job', async () => {
    const job = await ended(await py('import os, time\nos.mkdir("many")\nfor i in range(30000): open(f"many/{i}", "w").close()\nprint("CREATED", flush=True)\ntime.sleep(5)\nprint("SURVIVED")', '60s'));
    expect(job).toMatchObject({ status: 'failed', failureReason: 'file count limit 10000 exceeded' });
    expect(await out(job)).not.toContain('SURVIVED');
  });

  it('cannot hide data from the disk limit below PATH_MAX (openat), nor leave such a tree behind', async () => {
    const deep = (after: string) =>
      [
        'import os, time',
        'fd = os.open(".", os.O_RDONLY)',
        'for i in range(600):',
        '    os.mkdir("d" * 10, dir_fd=fd)',
        '    nfd = os.open("d" * 10, os.O_RDONLY, dir_fd=fd); os.close(fd); fd = nfd',
        'print("DEEP", flush=True)',
        after,
      ].join('\n');
    const [hider, leaver] = await Promise.all([
      py(deep('for i in range(80):\n    f = os.open(f"f{i}", os.O_WRONLY | os.O_CREAT, dir_fd=fd); os.write(f, b"x" * (1 << 20)); os.close(f)\nprint("WROTE", flush=True)\ntime.sleep(5)\nprint("SURVIVED")'), '60s'),
      py(deep('print("bye")')),
    ]);
    const [h, l] = await Promise.all([ended(hider), ended(leaver)]);
    expect(h).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^disk limit 48 MiB/) });
    expect(await out(h)).not.toContain('SURVIVED');
    // The one that exits at once may end before the check or be caught by it: either way it built its tree.
    expect(await out(l)).toContain('DEEP');
    // Both directories are gone with their jobs, however deep.
    await waitFor('the deep job directories to go', async () => !readdirSync(workdir).some((n) => n === h.id || n === l.id), 10_000);
  });

  it('cannot hide data from the disk limit in files it deleted but holds open or mapped', async () => {
    const [held, mapped] = await Promise.all([
      py('import os, time\nfs = []\nfor i in range(6):\n    f = open(f"u{i}", "wb"); os.unlink(f"u{i}"); f.write(b"x" * 30000000); f.flush(); fs.append(f)\nprint("HELD", flush=True)\ntime.sleep(5)\nprint("SURVIVED")', '60s'),
      // libc's mmap, not Python's (which keeps a descriptor of its own): only the mapping holds the file.
      py('import ctypes, os, time\nlibc = ctypes.CDLL(None)\nlibc.mmap.restype = ctypes.c_void_p\nlibc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\nfor i in range(6):\n    fd = os.open(f"m{i}", os.O_RDWR | os.O_CREAT); os.write(fd, b"x" * 30000000); libc.mmap(None, 30000000, 1, 1, fd, 0); os.close(fd); os.unlink(f"m{i}")\nprint("MAPPED", os.listdir("/proc/self/fd"), flush=True)\ntime.sleep(5)\nprint("SURVIVED")', '60s'),
    ]);
    for (const job of await Promise.all([ended(held), ended(mapped)])) {
      expect(job).toMatchObject({ status: 'failed', failureReason: 'disk limit 48 MiB exceeded' });
      expect(await out(job)).not.toContain('SURVIVED');
    }
  });

  it('keeps only JOB_LOG_LIMIT of a flood of output, says so, and still records the outcome', async () => {
    const job = await ended(await py('import sys\nline = "x" * 65535 + "\\n"\nfor i in range(1000): sys.stdout.write(line)\nsys.stdout.write("\\0\\xff" * 10 + "\\n")\nprint("DONE")', '60s'));
    expect(job.status).toBe('finished');
    const logs = await logsOf(t, admin, job.id);
    const stored = logs.filter((l) => l.stream === 'stdout').reduce((n, l) => n + l.line.length, 0);
    expect(stored).toBeLessThanOrEqual(1024 * 1024);
    expect(stored).toBeGreaterThan(900 * 1024);
    const system = lines(logs, 'system').join('\n');
    expect(system).toMatch(/log limit 1 MiB reached: further output of the job is dropped/);
    expect(system).toMatch(/lines dropped: over the log limit/);
    expect(system).toMatch(/exit code 0|finished/);
  });

  it("cannot take the worker's file descriptors through the tracking forward; tracking still works afterwards", async () => {
    const before = openFds();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, openFds())), 50);
    const code = [
      'import os, socket, time, urllib.parse, urllib.request',
      'u = urllib.parse.urlparse(os.environ["MLFLOW_TRACKING_URI"])',
      'ss = []',
      'for i in range(600):',
      '    s = socket.socket(); s.settimeout(0.05)',
      '    try: s.connect((u.hostname, u.port)); ss.append(s)',
      '    except OSError: s.close()',
      'print("TRIED", flush=True)',
      'time.sleep(2)',
      'for s in ss: s.close()',
      'time.sleep(0.5)',
      'print(urllib.request.urlopen(os.environ["MLFLOW_TRACKING_URI"] + "/health", timeout=10).read().decode())',
    ].join('\n');
    const job = await ended(await py(code, '60s'));
    clearInterval(timer);
    expect(job.status).toBe('finished');
    expect(await out(job)).toEqual(['TRIED', expect.stringContaining('healthy')]);
    // 64 connections at most, 3 descriptors each (forward, upstream, the API's side): not 1800.
    expect(peak - before).toBeLessThan(400);
  });

  it("finds nothing of an earlier job's network: its listener is gone, only the tracking forward listens", async () => {
    // Network-off jobs of one worker take turns in the namespaces that hold the tracking forward (one job at a time).
    const first = await ended(
      await py('import os, socket, time\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("127.0.0.1", 7777)); s.listen()\nif os.fork() == 0:\n    os.setsid(); time.sleep(60)\nprint("LISTENING", flush=True)'),
    );
    expect(first.status).toBe('finished');
    expect(await out(first)).toEqual(['LISTENING']);
    const next = await ended(await sh(`awk '$4 == "0A" {print $2}' /proc/net/tcp /proc/net/tcp6; (exec 3<>/dev/tcp/127.0.0.1/7777) 2>/dev/null && echo "REACHED 7777" || echo "refused 7777"`));
    expect(next.status).toBe('finished');
    expect(await out(next)).toEqual(['0100007F:1388', 'refused 7777']);
  });

  it('cannot move its sandbox init into its cgroup, nor reach any other cgroup file', async () => {
    // The job's shell joined its cgroup through the cgroup.procs files bound at /run/alidade-cgroup (cgroup v1).
    const job = await ended(
      await sh('for f in /run/alidade-cgroup/*; do (echo 1 > "$f") 2>/dev/null && echo "MOVED $f" || echo refused; done; ls /sys/fs/cgroup 2>/dev/null | wc -l; grep -c "^[0-9]*$" /run/alidade-cgroup/* | sed "s/.*://" | sort -u'),
    );
    expect(job.status).toBe('finished');
    const lines = await out(job);
    expect(lines.filter((l) => l.startsWith('MOVED'))).toEqual([]);
    expect(lines.filter((l) => l === 'refused').length).toBeGreaterThan(0);
    // No /sys/fs/cgroup in the sandbox; each bound file lists only the job's own processes (the shell and grep's pipe).
    expect(lines[lines.length - 2]).toBe('0');
  });

  it('cannot grow past its memory limit through its private /tmp, nor write /dev/shm', async () => {
    const [tmpFill, shm] = await Promise.all([
      sh('for i in 1 2 3 4 5 6 7 8; do head -c 30000000 /dev/zero > /tmp/fill$i; done; sleep 2; echo FILLED', '60s'),
      sh('(echo x > /dev/shm/x) 2>/dev/null && echo "WROTE shm" || echo "blocked shm"'),
    ]);
    const [a, b] = await Promise.all([ended(tmpFill), ended(shm)]);
    expect(a).toMatchObject({ status: 'failed', failureReason: 'memory limit 128 MiB exceeded' });
    expect(await out(a)).not.toContain('FILLED');
    expect(await out(b)).toEqual(['blocked shm']);
  });

  it("cannot use its job token on another user's run or experiment, the v1 API or to create experiments", async () => {
    const victim = await ended(await run(admin, 'sh', { script: 'echo hi' }, undefined, 'victim'));
    const code = [
      'import json, os, urllib.request',
      'U = os.environ["MLFLOW_TRACKING_URI"]; T = os.environ["MLFLOW_TRACKING_TOKEN"]',
      'def call(method, path, body=None):',
      '    req = urllib.request.Request(U + path, method=method, data=json.dumps(body).encode() if body is not None else None, headers={"Authorization": "Bearer " + T, "Content-Type": "application/json"})',
      '    try:',
      '        r = urllib.request.urlopen(req, timeout=10); print("OK", path, r.read().decode())',
      '    except urllib.error.HTTPError as e:',
      '        print("NO", path, e.code)',
      `vr = ${JSON.stringify(victim.mlflowRunId)}`,
      'call("GET", "/api/2.0/mlflow/runs/get?run_id=" + vr)',
      'call("POST", "/api/2.0/mlflow/runs/log-metric", {"run_id": vr, "key": "pwn", "value": 1, "timestamp": 0})',
      'call("POST", "/api/2.0/mlflow/runs/delete", {"run_id": vr})',
      'call("POST", "/api/2.0/mlflow/experiments/create", {"name": "evil"})',
      'call("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "1"})',
      'call("GET", "/api/2.0/mlflow-artifacts/artifacts?path=1/" + vr + "/artifacts")',
      'call("GET", "/api/v1/jobs")',
      'call("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 100})',
    ].join('\n');
    const job = await ended(await py(code));
    const text = await out(job);
    expect(text.filter((l) => l.startsWith('NO '))).toHaveLength(7);
    const listed = JSON.parse(text.find((l) => l.startsWith('OK /api/2.0/mlflow/experiments/search'))!.split(' ').slice(2).join(' '));
    expect(listed.experiments.map((e: { name: string }) => e.name)).toEqual(['mallory']);
    const res = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${victim.mlflowRunId}`).set(bearer(admin)).expect(200);
    expect(res.body.run.info.lifecycle_stage).toBe('active');
    expect(res.body.run.data.metrics ?? []).toEqual([]);
  });

  it('a loop that ignores SIGTERM, in a subshell, ends at its timeout with nothing left', async () => {
    const job = await ended(await sh('trap "" TERM; (trap "" TERM; while :; do :; done) & sleep 7501', '2s'));
    expect(job).toMatchObject({ status: 'failed', failureReason: 'timed out after 2s' });
    await waitFor('no sleep 7501 left', async () => !processes().includes('sleep 7501'), 5000);
  });
});
