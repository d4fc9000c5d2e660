#!/usr/bin/env node
// forwarder.mjs — a zero-work TCP forwarder, the stand-in gateway of `run.mjs --calibrate`.
//
//   node bench/forwarder.mjs --port=N --upstream-port=M
//
// It copies bytes both ways and parses nothing, so running it in Sluice's place shows what the extra
// loopback hop alone costs on this machine (cross-core wake-ups, twice the sockets, less coalescing
// of reads on the client). Ratios for Sluice are best read against that floor, not against 1.0.
import net from 'node:net';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const port = Number(arg('port'));
const upstreamPort = Number(arg('upstream-port'));
if (!(port > 0 && upstreamPort > 0)) { console.error('forwarder: need --port and --upstream-port'); process.exit(2); }

const server = net.createServer((client) => {
  const up = net.connect(upstreamPort, '127.0.0.1');
  // Like any proxy that forwards each chunk as it arrives: no Nagle delay on either side.
  client.setNoDelay(true);
  up.setNoDelay(true);
  client.pipe(up).on('error', () => client.destroy());
  up.pipe(client).on('error', () => up.destroy());
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
});
server.listen(port, '127.0.0.1');
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
