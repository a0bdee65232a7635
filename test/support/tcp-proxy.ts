import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * How a cut looks to a client: `reset`, a connection is accepted and reset at once (the database's host answers, the
 * database does not: a restart, a crash); `hold`, it is accepted and never answered until the cut ends (a network
 * partition: the client's connect timeout decides).
 */
export type CutMode = 'reset' | 'hold';

/**
 * A TCP proxy a test puts between the apps and a server (MariaDB) to take the server away and bring it back without
 * stopping it (other suites share it): `cut()` ends every open connection and answers new ones as `mode` says;
 * `restore()` forwards again (held connections are forwarded then). It listens on a free port of 127.0.0.1 throughout,
 * so the apps' URL never changes.
 */
export class TcpProxy {
  /** Client sockets with their upstream, open now. */
  private readonly open = new Map<Socket, Socket | null>();
  /** Connections accepted during a `hold` cut, forwarded at `restore()`. */
  private readonly held = new Set<Socket>();
  private cutMode: CutMode | null = null;
  /** Connections accepted so far, and those refused or held during cuts. */
  readonly counts = { accepted: 0, reset: 0, held: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1, forwarding to `target` (MariaDB on 127.0.0.1:3306 by default). */
  static async start(target = { host: '127.0.0.1', port: 3306 }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    return new TcpProxy(server, typeof address === 'object' && address ? address.port : 0, target);
  }

  /** `url` (mysql://user@host:port/db) with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get isCut(): boolean {
    return this.cutMode !== null;
  }

  /** Ends every open connection (both sides) and answers new ones as `mode` says until `restore()`. */
  cut(mode: CutMode = 'reset'): void {
    this.cutMode = mode;
    for (const [client, upstream] of this.open) {
      client.destroy();
      upstream?.destroy();
    }
    this.open.clear();
  }

  /** Forwards again: new connections, and those held during the cut. */
  restore(): void {
    this.cutMode = null;
    const held = [...this.held];
    this.held.clear();
    for (const client of held) if (!client.destroyed) this.forward(client);
  }

  /** Stops listening and ends every connection. */
  async close(): Promise<void> {
    this.cut('reset');
    for (const client of this.held) client.destroy();
    this.held.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.counts.accepted++;
    client.on('error', () => undefined);
    if (this.cutMode === 'reset') {
      this.counts.reset++;
      client.resetAndDestroy();
      return;
    }
    if (this.cutMode === 'hold') {
      this.counts.held++;
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    this.forward(client);
  }

  private forward(client: Socket): void {
    const upstream = createConnection(this.target);
    this.open.set(client, upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const end = () => {
      this.open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
