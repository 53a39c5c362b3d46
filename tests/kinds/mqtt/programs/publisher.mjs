// A publisher in Node.js with only its standard library (no MQTT package is vendored here):
// `node publisher.mjs HOST PORT TOPIC MESSAGE [USER PASSWORD]` writes an MQTT 3.1.1 CONNECT,
// one QoS 1 PUBLISH with a JSON body, waits for the PUBACK, disconnects.
import net from "node:net";

const [host, port, topic, message, user, password] = process.argv.slice(2);

function str(s) {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}
function varint(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}
function packet(first, body) {
  return Buffer.concat([Buffer.from([first]), varint(body.length), body]);
}

let flags = 0x02; // clean session
const payload = [str(`node-${process.pid}`)];
if (user) { flags |= 0xc0; payload.push(str(user), str(password)); }
const connect = packet(0x10, Buffer.concat([str("MQTT"), Buffer.from([4, flags, 0, 30]), ...payload]));
const body = JSON.stringify({ from: "node", message, pid: process.pid });
const publish = packet(0x32, Buffer.concat([str(topic), Buffer.from([0, 1]), Buffer.from(body, "utf8")]));

const sock = net.connect(Number(port), host, () => sock.write(connect));
let buf = Buffer.alloc(0);
sock.on("data", (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 2 && buf.length >= 2 + buf[1]) {
    const type = buf[0] >> 4, packetBody = buf.subarray(2, 2 + buf[1]);
    buf = buf.subarray(2 + buf[1]);
    if (type === 2) {
      if (packetBody[1] !== 0) { console.error(`CONNACK refused: ${packetBody[1]}`); process.exit(2); }
      sock.write(publish);
    } else if (type === 4) {
      sock.end(Buffer.from([0xe0, 0]));
      console.log("published 1");
    }
  }
});
sock.on("error", (err) => { console.error(String(err)); process.exit(1); });
setTimeout(() => { console.error("timed out"); process.exit(3); }, 10000).unref();
