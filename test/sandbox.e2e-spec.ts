// The job sandbox, tried from inside real jobs: an escape suite (each job tries one way out; the test asserts what a
// client sees: the job's outcome and its own output) and a benign suite (ordinary work keeps running). Small limits
// and parallel jobs keep the wall time down.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../src/common/net';
import { loadConfig } from '../src/config/config';
import { JobProcess } from '../src/sandbox/job-process';
import { SandboxService } from '../src/sandbox/sandbox.service';
import { Job, lines, logsOf, sleep, submit, waitFor, waitForJob } from './fixtures/runner-kit';
import { makeTarGz } from './utils/archives';
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

const VENV = join(__dirname, '..', '.cache', 'python', 'mlflow-skinny');
const SECRET = 'test-secret-test-secret-test-secret-0123456789';
const DATA_SECRET = 'data-dir-secret-0f9e8d7c6b5a49382716';

/** One MLproject, two entry points: `sh` runs a bash script, `py` a python3 program; both given as a parameter. */
const WORKFLOW = makeTarGz({
  MLproject: [
    'name: sandbox',
    'entry_points:',
    '  sh:',
    '    parameters:',
    '      script: string',
    '    command: bash -c {script}',
    '  py:',
    '    parameters:',
    '      code: string',
    '    command: python3 -c {code}',
    '  venv:',
    '    parameters:',
    '      code: string',
    `    command: ${VENV}/bin/python -c {code}`,
    '',
  ].join('\n'),
});

const processes = () => execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });

/** What a worker killed with SIGKILL leaves: a job directory and, under a dead worker's pids cgroup, a job still running. */
function leaveWhatAKilledWorkerLeaves(workdir: string): { dir: string; cgroup: string | null; pid: number } {
  const dir = join(workdir, '0b7e3c2a-5d4f-4e6a-9b1c-2d3e4f5a6b7c');
  mkdirSync(join(dir, 'workflow'), { recursive: true });
  writeFileSync(join(dir, 'workflow', 'left.txt'), 'left over');
  const own = /^\d+:pids:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const survivor = spawn('sleep', ['7401'], { detached: true, stdio: 'ignore' });
  survivor.unref();
  if (own === undefined || !existsSync('/sys/fs/cgroup/pids/cgroup.procs')) return { dir, cgroup: null, pid: survivor.pid! };
  // pid 4194304 is above pid_max: never a live worker.
  const cgroup = join('/sys/fs/cgroup/pids', own, 'alidade-4194304', 'job-left');
  mkdirSync(cgroup, { recursive: true });
  writeFileSync(join(cgroup, 'cgroup.procs'), String(survivor.pid));
  return { dir, cgroup, pid: survivor.pid! };
}

describe('job sandbox (bubblewrap): escapes are blocked, ordinary jobs run', () => {
  let t: TestApp;
  let admin: string;
  let tmp: string;
  let dataDir: string;
  let workdir: string;
  let port: number;
  let leftovers: ReturnType<typeof leaveWhatAKilledWorkerLeaves>;
  const grace = JobProcess.killGraceMs;

  const run = (entryPoint: string, parameters: Record<string, string>, timeout?: string) =>
    submit(t, admin, { experimentName: 'sandbox', queue: 'box', entryPoint, parameters, timeout }, WORKFLOW);
  const sh = (script: string, timeout?: string) => run('sh', { script }, timeout);
  const py = (code: string, timeout?: string) => run('py', { code }, timeout);
  const ended = (job: Job) => waitForJob(t, admin, job.id, undefined, 60_000);
  const out = async (job: Job) => lines(await logsOf(t, admin, job.id), 'stdout');

  beforeAll(async () => {
    JobProcess.killGraceMs = 1000;
    tmp = mkdtempSync(join(tmpdir(), 'alidade-sandbox-'));
    dataDir = join(tmp, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    writeFileSync(join(dataDir, 'jwt-secret'), DATA_SECRET, { mode: 0o600 });
    workdir = join(tmp, 'jobs');
    leftovers = leaveWhatAKilledWorkerLeaves(workdir);
    port = await freePort();
    const venvBase = realpathSync(join(VENV, 'bin', 'python'));
    t = await startApp({
      role: 'all',
      env: {
        WORKER_QUEUES: 'box,wide,tight',
        WORKER_CONCURRENCY: '4',
        // The port it listens on below: jobs get http://127.0.0.1:<PORT> (PUBLIC_URL's default) as MLFLOW_TRACKING_URI.
        PORT: String(port),
        DATA_DIR: dataDir,
        JOB_WORKDIR: workdir,
        JOB_SANDBOX: 'bwrap',
        JOB_MEMORY_LIMIT: '128M',
        JOB_PIDS_LIMIT: '64',
        JOB_DISK_LIMIT: '48M',
        JOB_FSIZE_LIMIT: '32M',
        // The venv and the interpreter it was made from (pyenv under /root here).
        JOB_RO_BINDS: `${VENV}:${join(venvBase, '..', '..')}`,
        JOB_ENV: JSON.stringify({ MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}` }),
        CUDA_VISIBLE_DEVICES: '0,1',
        OMP_NUM_THREADS: '3',
        SOME_SERVER_VARIABLE: 'not-for-jobs',
      },
    });
    await new Promise<void>((r) => t.app.getHttpServer().listen(port, '127.0.0.1', () => r()));
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'sandbox' }).expect(201);
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'box' }).expect(201);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    JobProcess.killGraceMs = grace;
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('escapes', () => {
    it('cannot read DATA_DIR (jwt-secret) by absolute or relative path, nor find the server secrets in any /proc/*/environ or cmdline', async () => {
      const secretFile = join(dataDir, 'jwt-secret');
      const code = [
        'import glob, os, sys',
        `targets = [${JSON.stringify(secretFile)}, ${JSON.stringify(dataDir)}]`,
        `rel = os.path.relpath(${JSON.stringify(secretFile)}, os.getcwd())`,
        'for p in targets + [rel, "../" * 12 + ' + JSON.stringify(secretFile.slice(1)) + ']:',
        '    try:',
        '        print("READ", p, open(p).read() if os.path.isfile(p) else os.listdir(p))',
        '    except Exception as e:',
        '        print("blocked", type(e).__name__)',
        'found = []',
        'for f in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):',
        '    try:',
        '        data = open(f, "rb").read()',
        '    except Exception:',
        '        continue',
        // Written reversed: the job's own environment (its parameters) and command line hold this very program.
        `    for s in [${[SECRET, ADMIN_PASSWORD, 'DATABASE_URL', 'SOME_SERVER_VARIABLE', DATA_SECRET].map((x) => JSON.stringify([...x].reverse().join(''))).join(', ')}]:`,
        '        if s[::-1].encode() in data: found.append(f)',
        'print("pids", sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("/proc/[0-9]*/stat")))',
        'print("found", found)',
      ].join('\n');
      const job = await ended(await py(code));
      const text = (await out(job)).join('\n');
      expect(job.status).toBe('finished');
      expect(text).not.toMatch(/READ/);
      expect(text).not.toContain(DATA_SECRET);
      expect(text).toMatch(/^found \[\]$/m);
      expect(text).toMatch(/blocked/);
    });

    it('cannot reach Postgres or Redis over TCP nor their unix sockets; its network is its own loopback', async () => {
      const code = [
        'import socket',
        'for host, port in [("127.0.0.1", 5432), ("127.0.0.1", 6379), ("10.0.0.1", 80), ("1.1.1.1", 53)]:',
        '    s = socket.socket(); s.settimeout(2)',
        '    try:',
        '        s.connect((host, port)); print("CONNECTED", host, port)',
        '    except Exception as e:',
        '        print("blocked", host, port, type(e).__name__)',
        'for path in ["/run/postgresql/.s.PGSQL.5432", "/var/run/postgresql/.s.PGSQL.5432", "/tmp/.s.PGSQL.5432", "/run/redis/redis.sock", "/var/run/redis/redis-server.sock", "/tmp/redis.sock"]:',
        '    s = socket.socket(socket.AF_UNIX)',
        '    try:',
        '        s.connect(path); print("CONNECTED", path)',
        '    except Exception as e:',
        '        print("blocked", path, type(e).__name__)',
        'print("interfaces", [n for _, n in socket.if_nameindex()])',
      ].join('\n');
      const job = await ended(await py(code));
      const text = (await out(job)).join('\n');
      expect(text).not.toMatch(/CONNECTED/);
      expect(text.match(/blocked/g)).toHaveLength(10);
      expect(text).toMatch(/^interfaces \['lo'\]$/m);
    });

    it("cannot signal or ptrace the server, nor see, signal, read or write another job's processes and directory", async () => {
      const victim = await sh('echo $$ > "$HOME/pid"; echo mine > "$HOME/data"; sleep 20');
      await waitForJob(t, admin, victim.id, ['started']);
      const victimDir = join(workdir, victim.id);
      await waitFor('the victim job to write its files', async () => existsSync(join(victimDir, 'data')));
      const code = [
        'import ctypes, os, signal',
        `server = ${process.pid}`,
        'for pid in [server, 1]:',
        '    try:',
        '        os.kill(pid, signal.SIGTERM if pid != 1 else 0); print("SIGNALLED", pid)',
        '    except Exception as e:',
        '        print("blocked kill", pid, type(e).__name__)',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'print("ptrace", libc.ptrace(16, server, 0, 0), ctypes.get_errno())',
        `d = ${JSON.stringify(victimDir)}`,
        'for op in ["list", "read", "write"]:',
        '    try:',
        '        if op == "list": print("LISTED", os.listdir(d))',
        '        if op == "read": print("READ", open(d + "/data").read())',
        '        if op == "write": open(d + "/intruder", "w").write("x"); print("WROTE")',
        '    except Exception as e:',
        '        print("blocked", op, type(e).__name__)',
        'print("visible", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))',
      ].join('\n');
      const job = await ended(await py(code));
      const text = (await out(job)).join('\n');
      expect(text).not.toMatch(/SIGNALLED \d{2,}|LISTED|READ|WROTE/);
      expect(text).toMatch(/^ptrace -1 \d+$/m);
      expect(text).toMatch(/blocked list/);
      expect(text).toMatch(/blocked write/);
      // Only its own pid namespace: bwrap's init and the job's few processes.
      const visible = JSON.parse(/^visible (.*)$/m.exec(text)![1]) as number[];
      expect(Math.max(...visible)).toBeLessThan(20);
      expect(existsSync(join(victimDir, 'intruder'))).toBe(false);
      // The victim is untouched: still running.
      expect((await waitForJob(t, admin, victim.id, ['started'])).status).toBe('started');
      await t.http().post(`/api/v1/jobs/${victim.id}/cancel`).set(bearer(admin)).expect(200);
      await ended(victim);
    });

    it('a cancel message published into Redis is ignored while the job row does not say canceled', async () => {
      const job = await sh('sleep 3; echo survived');
      await waitForJob(t, admin, job.id, ['started']);
      const redis = new Redis(t.env.REDIS_URL);
      try {
        await redis.publish(`${t.env.REDIS_PREFIX}:job-cancel`, job.id);
      } finally {
        redis.disconnect();
      }
      const done = await ended(job);
      expect(done.status).toBe('finished');
      expect(await out(done)).toEqual(['survived']);
    });

    it('cannot write the server files, the builtin plugins, /etc, /usr or outside its HOME; is never uid 0', async () => {
      const dist = join(__dirname, '..', 'dist', 'main.js');
      const builtin = join(__dirname, '..', 'task-plugins', 'dioptra_builtins', 'alidade', 'job.py');
      const script = [
        `for f in ${dist} ${builtin} "$DIOPTRA_PLUGIN_DIR/dioptra_builtins/alidade/job.py" "$DIOPTRA_PLUGIN_DIR/evil.py" /etc/passwd /etc/evil /usr/bin/evil /usr/local/evil "$HOME/../evil" /var/evil /evil /root/evil; do`,
        '  if ( echo pwned >> "$f" ) 2>/dev/null; then echo "WROTE $f"; else echo "blocked $f"; fi',
        'done',
        'echo "uid $(id -u) gid $(id -g) groups $(id -G)"',
        'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status',
        'python3 -c "import os; os.setuid(0)" 2>/dev/null && echo SETUID || echo "blocked setuid"',
        'unshare -Ur id 2>/dev/null && echo USERNS || echo "blocked userns"',
        'for s in su sudo mount; do command -v $s >/dev/null && ($s root -c id </dev/null 2>/dev/null | grep -q "uid=0") && echo "ROOT via $s"; done; true',
      ].join('\n');
      const job = await ended(await sh(script));
      const text = (await out(job)).join('\n');
      expect(text).not.toMatch(/WROTE|SETUID|USERNS|ROOT via/);
      expect(text.match(/^blocked \//gm)).toHaveLength(12);
      const [, uid, gid] = /^uid (\d+) gid (\d+)/m.exec(text)!;
      expect(Number(uid)).toBeGreaterThanOrEqual(200000);
      expect(gid).toBe(uid);
      expect(text).toMatch(/CapEff:\s+0+$/m);
      expect(text).toMatch(/CapBnd:\s+0+$/m);
    });

    it('leaves nothing running after its end: setsid, nohup and double-forked children are killed', async () => {
      const job = await ended(await sh('setsid sleep 7301 & nohup sleep 7302 >/dev/null 2>&1 & ( ( sleep 7303 & ) & ) ; disown -a; echo started'));
      expect(job.status).toBe('finished');
      expect(await out(job)).toEqual(['started']);
      await waitFor('no sleep 730x left', async () => !/sleep 730[123]/.test(processes()), 5000);
    });

    it('a fork bomb fails the job with the process limit, and the worker goes on', async () => {
      // The main shell stays busy in a builtin loop (no fork): a bomb whose main process exits at once ends with the
      // sandbox before it may reach the limit, and then there is no limit to name.
      const job = await ended(await sh(':(){ :|:& };:; while :; do :; done', '60s'));
      expect(job).toMatchObject({ status: 'failed', failureReason: 'process limit 64 exceeded' });
      const next = await ended(await sh('echo alive'));
      expect(next.status).toBe('finished');
    });

    it('allocating past the memory limit fails the job with "memory limit 128 MiB exceeded"', async () => {
      const job = await ended(await py('x = bytearray(512 * 1024 * 1024)\nfor i in range(0, len(x), 4096): x[i] = 1\nprint("ALLOCATED")'));
      expect(job).toMatchObject({ status: 'failed', exitCode: 137, failureReason: 'memory limit 128 MiB exceeded' });
      expect(await out(job)).not.toContain('ALLOCATED');
    });

    it('filling the disk fails the job with the disk limit; one big file with the file size limit', async () => {
      const [many, big] = await Promise.all([
        sh('for i in $(seq 1 200); do head -c 1048576 /dev/zero > "$HOME/f$i" || exit 9; sleep 0.02; done; echo FILLED', '60s'),
        sh('head -c 100000000 /dev/zero > "$HOME/big"'),
      ]);
      const [m, b] = await Promise.all([ended(many), ended(big)]);
      expect(m).toMatchObject({ status: 'failed', failureReason: 'disk limit 48 MiB exceeded' });
      expect(await out(m)).not.toContain('FILLED');
      expect(b).toMatchObject({ status: 'failed', failureReason: 'file size limit 32 MiB exceeded' });
    });
  });

  it("at start, the worker removes what a killed worker left: job directories, cgroups and the processes in them", async () => {
    await waitFor('the leftover directory to go', async () => !existsSync(leftovers.dir), 10_000);
    if (leftovers.cgroup) {
      await waitFor('the leftover cgroup to go', async () => !existsSync(join(leftovers.cgroup!, '..')), 10_000);
      await waitFor('its process to be killed', async () => !processes().includes('sleep 7401'), 5000);
    }
  });

  describe('the worker\'s shared copies (workflows unpacked once per content hash, plugins once per change)', () => {
    it('a job writes its own files and its copy of small workflow files; large ones are read-only links it can only replace; the next job of the same workflow sees the original', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
      const shared = makeTarGz({
        MLproject: ['name: shared', 'entry_points:', '  sh:', '    parameters:', '      script: string', '    command: bash -c {script}', ''].join('\n'),
        'small.txt': 'original\n',
        'data/big.bin': big,
      });
      const runShared = (script: string) => submit(t, admin, { experimentName: 'sandbox', queue: 'box', entryPoint: 'sh', parameters: { script } }, shared);
      const hostile = [
        'echo new > mine.txt && cat mine.txt',
        'echo changed >> small.txt && echo "small $(tail -1 small.txt)"',
        '(echo x >> data/big.bin) 2>/dev/null && echo "WROTE big" || echo "big read-only"',
        'chmod 666 data/big.bin 2>/dev/null && echo "CHMOD big" || echo "big chmod refused"',
        'stat -c "big owner %u" data/big.bin',
        'ls -a "$(dirname "$HOME")" | tr "\n" " "; echo',
        'rm -f data/big.bin && echo replaced > data/big.bin && echo "big $(cat data/big.bin)"',
      ].join('; ');
      const first = await ended(await runShared(hostile));
      const text = (await out(first)).join('\n');
      expect(first.status).toBe('finished');
      expect(text).toMatch(/^new$/m);
      expect(text).toMatch(/^small changed$/m);
      expect(text).toMatch(/^big read-only$/m);
      expect(text).toMatch(/^big chmod refused$/m);
      expect(text).toMatch(/^big owner 0$/m);
      expect(text).toMatch(/^big replaced$/m);
      // The job's directory's parent holds only the job's own directory: no cache, no other job.
      expect(text).toMatch(new RegExp(`^\\. \\.\\. ${first.id} $`, 'm'));

      const second = await ended(await runShared('cat small.txt; sha256sum data/big.bin | cut -c1-64; ls mine.txt 2>&1 | head -1'));
      const again = await out(second);
      expect(second.status).toBe('finished');
      expect(again[0]).toBe('original');
      expect(again[1]).toBe(createHash('sha256').update(big).digest('hex'));
      expect(again[2]).toMatch(/No such file/);
    });
  });

  describe('benign jobs', () => {
    it('run as a uid of their own each, in a 0700 directory of their own that is their HOME and is removed at the end', async () => {
      const script = 'echo "uid $(id -u)"; echo "home $HOME"; stat -c "%a %u" "$HOME"; echo data > "$HOME/out.txt"; cat "$HOME/out.txt"; echo tmp > /tmp/x && cat /tmp/x; sleep 1';
      const jobs = await Promise.all([sh(script), sh(script)]);
      const done = await Promise.all(jobs.map(ended));
      const outs = await Promise.all(done.map(out));
      for (const [i, o] of outs.entries()) {
        expect(done[i].status).toBe('finished');
        expect(o).toContain(`home ${join(workdir, jobs[i].id)}`);
        expect(o).toEqual(expect.arrayContaining(['data', 'tmp', `700 ${/^uid (\d+)$/.exec(o[0])![1]}`]));
        expect(existsSync(join(workdir, jobs[i].id))).toBe(false);
      }
      expect(outs[0][0]).not.toBe(outs[1][0]);
      expect(readdirSync('/run/alidade/job-uids').filter((u) => outs.some((o) => o[0] === `uid ${u}`))).toEqual([]);
    });

    it('import both plugin collections, read their parameters, run python3 and the configured venv (JOB_RO_BINDS)', async () => {
      const plugin = makeTarGz({ 'greet/hello.py': 'def hello():\n    return "hello from custom"\n' });
      await t.http().post('/api/v1/task-plugins').set(bearer(admin)).field('name', 'greet').attach('file', plugin, 'greet.tar.gz').expect(201);
      const code = [
        'import json, os',
        'from dioptra_builtins.alidade import job',
        'from dioptra_custom.greet.hello import hello',
        'print(hello(), job.job_id() == os.environ["DIOPTRA_JOB_ID"], json.loads(os.environ["DIOPTRA_JOB_PARAMETERS"])["code"][:6])',
      ].join('\n');
      const [p, v] = await Promise.all([py(code), run('venv', { code: 'import mlflow, sys; print("mlflow", mlflow.__version__, sys.prefix)' })]);
      const [pd, vd] = await Promise.all([ended(p), ended(v)]);
      expect(pd.status).toBe('finished');
      expect(await out(pd)).toEqual(['hello from custom True import']);
      expect(vd.status).toBe('finished');
      expect((await out(vd))[0]).toMatch(/^mlflow 3\.\d+\.\d+ /);
    });

    it('see exactly the documented environment plus JOB_ENV and JOB_ENV_PASSTHROUGH (GPU variables reach the job)', async () => {
      const job = await ended(await sh('env'));
      const env = new Map((await out(job)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(env.get('CUDA_VISIBLE_DEVICES')).toBe('0,1');
      expect(env.get('OMP_NUM_THREADS')).toBe('3');
      expect(env.get('HOME')).toBe(join(workdir, job.id));
      expect(env.get('MLFLOW_TRACKING_URI')).toBe('http://127.0.0.1:5000');
      expect(env.get('PATH')).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
      const allowed = new Set(['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_TOKEN', 'MLFLOW_RUN_ID', 'MLFLOW_EXPERIMENT_ID', 'DIOPTRA_JOB_ID', 'DIOPTRA_PLUGIN_DIR', 'PYTHONPATH', 'HOME']);
      for (const k of ['DIOPTRA_JOB_PARAMETERS', 'PYTHONUNBUFFERED', 'CUDA_VISIBLE_DEVICES', 'OMP_NUM_THREADS', 'PATH', 'LANG', 'TZ', 'NVIDIA_VISIBLE_DEVICES', 'PWD', 'SHLVL', '_', 'OLDPWD']) allowed.add(k);
      expect([...env.keys()].filter((k) => !allowed.has(k))).toEqual([]);
      expect(env.has('SOME_SERVER_VARIABLE')).toBe(false);
    });

    it('reach the tracking server through the forward with the network off', async () => {
      const code = 'import os, urllib.request\nprint(urllib.request.urlopen(os.environ["MLFLOW_TRACKING_URI"] + "/health", timeout=10).read().decode())';
      const job = await ended(await py(code));
      expect(job.status).toBe('finished');
      expect((await out(job)).join('')).toContain('healthy');
    });

    it('on a queue an admin gave the network (network: host) and devices, see both; other users cannot set them; bad values are 400', async () => {
      const res = await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'wide', network: 'host', devices: ['/dev/fus*'] }).expect(201);
      expect(res.body.queue).toMatchObject({ name: 'wide', network: 'host', devices: ['/dev/fus*'] });
      const bad = await t.http().patch(`/api/v1/queues/${res.body.queue.id}`).set(bearer(admin)).send({ network: 'bridge', devices: ['/etc/passwd'] }).expect(400);
      expect(Object.keys(bad.body.details.fields).sort()).toEqual(['devices', 'network']);
      const code = 'import os, socket\nprint(len(socket.if_nameindex()) > 1, os.path.exists("/dev/fuse"))';
      const wide = await submit(t, admin, { experimentName: 'sandbox', queue: 'wide', entryPoint: 'py', parameters: { code } }, WORKFLOW);
      const narrow = await py(code);
      expect(await out(await ended(wide))).toEqual(['True True']);
      expect(await out(await ended(narrow))).toEqual(['False False']);
      const patched = await t.http().patch(`/api/v1/queues/${res.body.queue.id}`).set(bearer(admin)).send({ network: 'default', devices: [] }).expect(200);
      expect(patched.body.queue).toMatchObject({ network: null, devices: [] });
    });

    it("on a queue with limits of its own (admin-set), its jobs get those instead of the worker's; bad values are 400", async () => {
      const res = await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'tight', memoryLimit: '64M', pidsLimit: 32 }).expect(201);
      expect(res.body.queue).toMatchObject({ name: 'tight', memoryLimit: 64 * 1024 * 1024, pidsLimit: 32 });
      const id = res.body.queue.id;
      const bad = await t.http().patch(`/api/v1/queues/${id}`).set(bearer(admin)).send({ memoryLimit: 'lots', pidsLimit: 1 }).expect(400);
      expect(Object.keys(bad.body.details.fields).sort()).toEqual(['memoryLimit', 'pidsLimit']);
      const onTight = (script: string) => submit(t, admin, { experimentName: 'sandbox', queue: 'tight', entryPoint: 'sh', parameters: { script }, timeout: '60s' }, WORKFLOW);
      // 96 MiB: within the worker's 128 MiB, past the queue's 64 MiB.
      const [hog, bomb] = await Promise.all([
        submit(t, admin, { experimentName: 'sandbox', queue: 'tight', entryPoint: 'py', parameters: { code: 'x = bytearray(96 * 1024 * 1024)\nfor i in range(0, len(x), 4096): x[i] = 1\nprint("ALLOCATED")' } }, WORKFLOW),
        onTight(':(){ :|:& };:; while :; do :; done'),
      ]);
      expect(await ended(hog)).toMatchObject({ status: 'failed', failureReason: 'memory limit 64 MiB exceeded' });
      expect(await ended(bomb)).toMatchObject({ status: 'failed', failureReason: 'process limit 32 exceeded' });
      const reset = await t.http().patch(`/api/v1/queues/${id}`).set(bearer(admin)).send({ memoryLimit: 'default', pidsLimit: 'default' }).expect(200);
      expect(reset.body.queue).toMatchObject({ memoryLimit: null, pidsLimit: null });
    });

    it('time out and get canceled: the whole sandbox goes', async () => {
      const [slow, victim] = await Promise.all([sh('setsid sleep 7311 & sleep 7312', '2s'), sh('setsid sleep 7313 & sleep 7314')]);
      await waitForJob(t, admin, victim.id, ['started']);
      await waitFor('the job to be running', async () => processes().includes('sleep 7314'));
      await t.http().post(`/api/v1/jobs/${victim.id}/cancel`).set(bearer(admin)).expect(200);
      const [s, v] = await Promise.all([ended(slow), ended(victim)]);
      expect(s).toMatchObject({ status: 'failed', failureReason: 'timed out after 2s' });
      expect(v).toMatchObject({ status: 'canceled', failureReason: 'canceled by admin' });
      await waitFor('no sleep 731x left', async () => !/sleep 731[1-4]/.test(processes()), 5000);
    });
  });
});

describe('job sandbox modes', () => {
  const base = { DATABASE_URL: 'postgres://unused/x', JOB_WORKDIR: join(tmpdir(), 'alidade-sandbox-modes') };

  it('JOB_SANDBOX=bwrap refuses to start without bubblewrap and says how to install it', () => {
    const s = new SandboxService(loadConfig({ ...base, JOB_SANDBOX: 'bwrap', JOB_BWRAP: '/nonexistent/bwrap' }));
    expect(() => s.onModuleInit()).toThrow(/apt-get install bubblewrap/);
  });

  it('auto without bubblewrap runs jobs as root under their own uid, with the limits; none must be asked for', async () => {
    const auto = new SandboxService(loadConfig({ ...base, JOB_BWRAP: '/nonexistent/bwrap', JOB_MEMORY_LIMIT: '64M' }));
    auto.onModuleInit();
    expect(auto.mode).toBe('uid');
    const none = new SandboxService(loadConfig({ ...base, JOB_SANDBOX: 'none' }));
    none.onModuleInit();
    expect(none.mode).toBe('none');

    const secretDir = mkdtempSync(join(tmpdir(), 'alidade-secret-'));
    writeFileSync(join(secretDir, 'jwt-secret'), DATA_SECRET, { mode: 0o600 });
    const box = await auto.open(`modes-${process.pid}`);
    const got: string[] = [];
    const proc = await box.start({
      command: `id -u; cat ${secretDir}/jwt-secret || echo blocked; setsid sleep 7321 & python3 -c 'x = b"x" * (256 << 20)' || echo "oom $?"`,
      cwd: box.dir,
      env: { PATH: '/usr/bin:/bin' },
      timeoutMs: 20_000,
      onLine: (_, l) => got.push(l),
    });
    const result = await proc.done;
    await box.close();
    expect(Number(got[0])).toBeGreaterThanOrEqual(200000);
    expect(got).toContain('blocked');
    expect(got.join('\n')).not.toContain(DATA_SECRET);
    expect(got).toContain('oom 137');
    expect(result.limit).toBe('memory limit 64 MiB exceeded');
    await sleep(200);
    expect(processes()).not.toMatch(/sleep 7321/);
    expect(existsSync(box.dir)).toBe(false);
    auto.onModuleDestroy();
    rmSync(secretDir, { recursive: true, force: true });
  });
});
