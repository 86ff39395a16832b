import { chmod, chown, rm } from 'node:fs/promises';
import { connect, createServer, Server, Socket } from 'node:net';

/** The port the forwarder listens on inside a job's network namespace (MLflow's own default). */
export const FORWARD_PORT = 5000;
/**
 * Connections a job may hold open through its forward at once (an MLflow client pools a handful). Each one costs the
 * worker two sockets (and the API one more): without a cap a job's processes could take every file descriptor of the
 * worker; beyond it, the worker closes new ones at once and the forwarders (socat, python3) leave them queued.
 */
export const FORWARD_MAX_CONNECTIONS = 64;

/**
 * A unix socket in the job's directory that connects each client to the tracking server's host:port. With the
 * network off, a forwarder inside the sandbox (socat, else python3) listens on 127.0.0.1:FORWARD_PORT and connects
 * here, so the job's MLflow client reaches the face and nothing else of the network.
 */
export class TrackingForward {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly path: string,
    /** Where new connections go; a shared forward (src/sandbox/forward-namespaces.ts) is pointed at each job's. */
    public target: ForwardTarget,
  ) {}

  static async open(path: string, target: ForwardTarget, owner?: { uid: number; gid: number }): Promise<TrackingForward> {
    await rm(path, { force: true });
    const server = createServer();
    server.maxConnections = FORWARD_MAX_CONNECTIONS;
    const fwd = new TrackingForward(server, path, target);
    server.on('connection', (client) => {
      const upstream = connect(fwd.target.port, fwd.target.host);
      for (const s of [client, upstream]) {
        fwd.sockets.add(s);
        s.on('close', () => fwd.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    server.on('error', () => undefined);
    if (owner) await chown(path, owner.uid, owner.gid);
    await chmod(path, 0o600);
    return fwd;
  }

  /** Ends every connection now open (a job's, when it ends: nothing of it carries over to the next). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    await rm(this.path, { force: true });
  }
}

export interface ForwardTarget {
  host: string;
  port: number;
}

/** The http tracking URI the job sees behind the forward (same path), or null when it cannot be forwarded. */
export function forwardedUri(uri: string): { target: ForwardTarget; inside: string } | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  // https would fail the certificate check on 127.0.0.1: such a server needs a queue with the network.
  if (url.protocol !== 'http:') return null;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 80;
  const path = url.pathname.replace(/\/+$/, '');
  return { target: { host, port }, inside: `http://127.0.0.1:${FORWARD_PORT}${path}${url.search}` };
}

/**
 * What runs first inside the sandbox: the forwarder in the background, ready before the job's command starts.
 * `$1` is the socket's path; the job's command follows as "$0" of the final `bash -c`.
 */
export function forwarderScript(socat: string | null): string {
  const hexPort = FORWARD_PORT.toString(16).toUpperCase().padStart(4, '0');
  if (socat) {
    return [
      `${socat} TCP-LISTEN:${FORWARD_PORT},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:"$1" </dev/null >/dev/null 2>&1 &`,
      // Ready when the port shows LISTEN (0A) in the namespace's /proc/net/tcp: read with bash builtins only (no
      // grep and sleep per round: each fork costs more than socat takes to listen), bounded (~1-2 s).
      `for ((i = 0; i < 20000; i++)); do read -r -d '' t < /proc/net/tcp; [[ $t == *":${hexPort} 00000000:0000 0A"* ]] && break; done`,
      'exec bash -c "$0"',
    ].join('\n');
  }
  // python3: binds and listens, then the parent exits, so the port is ready when the command starts.
  return `python3 -c '${pythonForwarder(true)}' "$1" </dev/null >/dev/null 2>&1\nexec bash -c "$0"`;
}

/** The forwarder as one foreground command, connecting to `socket`: what holds a shared namespace's port. */
export function forwarderCommand(socat: string | null, socket: string): string[] {
  // At most FORWARD_MAX_CONNECTIONS at once (a process each for socat): more wait in the listen queue.
  if (socat) return [socat, `TCP-LISTEN:${FORWARD_PORT},bind=127.0.0.1,fork,reuseaddr,max-children=${FORWARD_MAX_CONNECTIONS}`, `UNIX-CONNECT:${socket}`];
  return ['python3', '-c', pythonForwarder(false), socket];
}

/** socat's job in Python (two threads a connection, FORWARD_MAX_CONNECTIONS at once); `background`: forks once it listens. */
function pythonForwarder(background: boolean): string {
  return [
    'import os, socket, sys, threading',
    's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    `s.bind(("127.0.0.1", ${FORWARD_PORT})); s.listen(128)`,
    ...(background ? ['if os.fork(): os._exit(0)', 'os.setsid()'] : []),
    'def pump(a, b):',
    '    try:',
    '        while True:',
    '            d = a.recv(65536)',
    '            if not d: break',
    '            b.sendall(d)',
    '    except OSError: pass',
    '    for x in (a, b):',
    '        try: x.shutdown(socket.SHUT_RDWR)',
    '        except OSError: pass',
    `slots = threading.Semaphore(${FORWARD_MAX_CONNECTIONS})`,
    'def serve(c):',
    '    u = socket.socket(socket.AF_UNIX)',
    '    try:',
    '        u.connect(sys.argv[1])',
    '        t = threading.Thread(target=pump, args=(u, c), daemon=True); t.start()',
    '        pump(c, u); t.join()',
    '    except OSError: pass',
    '    finally:',
    '        c.close(); u.close(); slots.release()',
    'while True:',
    '    slots.acquire()',
    '    c, _ = s.accept()',
    '    threading.Thread(target=serve, args=(c,), daemon=True).start()',
  ].join('\n');
}
