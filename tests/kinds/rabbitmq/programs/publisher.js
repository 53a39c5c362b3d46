// A publisher in Node.js with no package at all (none is vendored here): AMQP 0-9-1 over `net`,
// PLAIN authentication, publisher confirms, then a clean close.
//   node publisher.js AMQP_URL EXCHANGE ROUTING_KEY BODY [CONTENT_TYPE] [MESSAGE_ID]
'use strict';
const net = require('net');

const url = new URL(process.argv[2]);
const [exchange, routingKey, bodyText] = process.argv.slice(3, 6);
const contentType = process.argv[6] || 'application/json';
const messageId = process.argv[7] || 'node-1';
const user = decodeURIComponent(url.username || 'guest');
const pass = decodeURIComponent(url.password || 'guest');
const vhost = decodeURIComponent(url.pathname.slice(1)) || '/';
const body = Buffer.from(bodyText);

const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const shortstr = (s) => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length]), b]); };
const longstr = (b) => Buffer.concat([u32(b.length), b]);
const table = (obj) => {
  const parts = [];
  for (const [k, v] of Object.entries(obj)) parts.push(shortstr(k), Buffer.from('S'), longstr(Buffer.from(String(v))));
  const all = Buffer.concat(parts);
  return Buffer.concat([u32(all.length), all]);
};
const frame = (type, channel, payload) => {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0); head.writeUInt16BE(channel, 1); head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([0xce])]);
};
const method = (channel, cls, mth, args) => frame(1, channel, Buffer.concat([u16(cls), u16(mth), args]));

const sock = net.connect(Number(url.port || 5672), url.hostname);
let pending = Buffer.alloc(0);
sock.on('connect', () => sock.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
sock.on('error', (err) => { console.error(`node publisher: ${err.message}`); process.exit(3); });
sock.on('data', (data) => {
  pending = Buffer.concat([pending, data]);
  while (pending.length >= 8) {
    const size = pending.readUInt32BE(3);
    if (pending.length < size + 8) break;
    const type = pending[0];
    const payload = pending.subarray(7, 7 + size);
    pending = pending.subarray(size + 8);
    if (type === 1) onMethod(payload.readUInt16BE(0), payload.readUInt16BE(2), payload.subarray(4));
  }
});

function onMethod(cls, mth, args) {
  switch (`${cls}.${mth}`) {
    case '10.10': // connection.start
      sock.write(method(0, 10, 11, Buffer.concat([table({ product: 'stackrig node publisher' }), shortstr('PLAIN'),
        longstr(Buffer.from(`\0${user}\0${pass}`)), shortstr('en_US')])));
      break;
    case '10.30': // connection.tune
      sock.write(method(0, 10, 31, Buffer.concat([u16(args.readUInt16BE(0)), u32(args.readUInt32BE(2)), u16(0)])));
      sock.write(method(0, 10, 40, Buffer.concat([shortstr(vhost), shortstr(''), Buffer.from([0])])));
      break;
    case '10.41': // connection.open-ok
      sock.write(method(1, 20, 10, shortstr('')));
      break;
    case '20.11': // channel.open-ok: confirm.select
      sock.write(method(1, 85, 10, Buffer.from([0])));
      break;
    case '85.11': { // confirm.select-ok: basic.publish, content header, body
      sock.write(method(1, 60, 40, Buffer.concat([u16(0), shortstr(exchange), shortstr(routingKey), Buffer.from([0])])));
      const flags = (1 << 15) | (1 << 13) | (1 << 7); // content-type, headers, message-id
      const props = Buffer.concat([shortstr(contentType), table({ 'x-publisher': 'node' }), shortstr(messageId)]);
      sock.write(frame(2, 1, Buffer.concat([u16(60), u16(0), u64(body.length), u16(flags), props])));
      sock.write(frame(3, 1, body));
      break;
    }
    case '60.80': // basic.ack: the broker has it
      sock.write(method(0, 10, 50, Buffer.concat([u16(200), shortstr('done'), u16(0), u16(0)])));
      break;
    case '10.51': // connection.close-ok
      sock.end();
      process.exit(0);
      break;
    case '10.50': case '20.40': // closed by the broker
      console.error(`node publisher: closed by the broker: ${args.subarray(3, 3 + args[2]).toString()}`);
      process.exit(2);
      break;
    default:
      break;
  }
}
