import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  /** A body sent as it is (HTML, for instance) instead of JSON; the handler sets its content-type. */
  text?: string;
  headers?: Record<string, string>;
}

export type SimHandler = (req: SimRequest) => Promise<SimResponse> | SimResponse;

/** A plain node:http server around one handler: simulators speak real HTTP to the clients under test. */
export class SimulatorHttpServer {
  private server: http.Server | null = null;

  constructor(private readonly handler: SimHandler) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer((req, res) => void this.serve(req, res));
    this.server.keepAliveTimeout = 65000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const { port: bound } = this.server.address() as AddressInfo;
    return `http://${host}:${bound}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      if (raw && String(req.headers['content-type'] ?? '').includes('json')) {
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
      }
      const url = new URL(req.url ?? '/', 'http://simulator');
      const out = await this.handler({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      const json = out.text === undefined && out.body !== undefined;
      const payload = req.method === 'HEAD' ? '' : (out.text ?? (json ? JSON.stringify(out.body) : ''));
      res.writeHead(out.status, {
        ...(json ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...out.headers,
      });
      res.end(payload);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: (err as Error).message, code: 500, internal_code: 'SERVER_ERROR' } }));
    }
  }
}
