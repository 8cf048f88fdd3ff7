import crypto from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

// The webhook benchmark's reference: a bare node:http handler that does the same single durable
// INSERT of the raw request per webhook as `cradle watch`, without signatures, parsing or limits.
//   node dist/bench/bare-server.js <postgres url> <port>

const [url, port] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 10 });
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const id = new URLSearchParams(raw.toString()).get('MessageSid');
    pool
      .query(
        `INSERT INTO contact_events (source, provider_id, kind, from_address, to_address, occurred_at, raw, sha256) VALUES ('bare', $1, 'sms', '', '', now(), $2, $3) ON CONFLICT DO NOTHING`,
        [id, raw, crypto.createHash('sha256').update(raw).digest('hex')],
      )
      .then(() => res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>'), () => res.writeHead(500).end());
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${port}\n`));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
