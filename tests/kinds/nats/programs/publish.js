// A publisher in Node.js without any package (no NATS client is vendored here): the NATS
// protocol over `net`.  node publish.js URL SUBJECT COUNT -- publishes {"id": N, "lang": "node"}
// with headers content-type and x-publisher, then PING and exits on the PONG.
const net = require("net");
const [url, subject, count] = process.argv.slice(2);
const { hostname, port, username, password } = new URL(url.replace(/^nats:/, "http:"));
const sock = net.connect(Number(port), hostname);
let buffer = "";
let sent = false;
sock.on("data", (chunk) => {
  buffer += chunk.toString();
  if (!sent && buffer.startsWith("INFO ") && buffer.includes("\r\n")) {
    sent = true;
    const connect = { verbose: false, pedantic: false, headers: true, lang: "node-raw", version: "1" };
    if (username && password) { connect.user = decodeURIComponent(username); connect.pass = decodeURIComponent(password); }
    else if (username) { connect.auth_token = decodeURIComponent(username); }
    let out = "CONNECT " + JSON.stringify(connect) + "\r\n";
    for (let n = 1; n <= Number(count); n++) {
      const body = JSON.stringify({ id: n, lang: "node" });
      const hdr = "NATS/1.0\r\ncontent-type: application/json\r\nx-publisher: node\r\n\r\n";
      const hlen = Buffer.byteLength(hdr), blen = Buffer.byteLength(body);
      out += `HPUB ${subject} ${hlen} ${hlen + blen}\r\n${hdr}${body}\r\n`;
    }
    sock.write(out + "PING\r\n");
  }
  if (buffer.includes("-ERR")) { console.error(buffer); process.exit(2); }
  if (sent && buffer.includes("PONG\r\n")) { sock.end(); process.exit(0); }
});
sock.on("error", (err) => { console.error(err.message); process.exit(1); });
