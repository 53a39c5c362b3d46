// Publish to an SNS topic of moto with Node's own http module: no AWS SDK for Node is vendored here,
// so this speaks SNS's query API directly.  moto checks no signature, but it routes a request by the
// credential scope of its Authorization header (".../us-east-1/sns/aws4_request"), as an SDK sends it.
// usage: node publish.js ENDPOINT_URL TOPIC_ARN MESSAGE
const http = require("http");
const [endpoint, topicArn, message] = process.argv.slice(2);
const form = new URLSearchParams({
  Action: "Publish", Version: "2010-03-31", TopicArn: topicArn, Message: message,
  "MessageAttributes.entry.1.Name": "content-type",
  "MessageAttributes.entry.1.Value.DataType": "String",
  "MessageAttributes.entry.1.Value.StringValue": "application/json",
  "MessageAttributes.entry.2.Name": "origin",
  "MessageAttributes.entry.2.Value.DataType": "String",
  "MessageAttributes.entry.2.Value.StringValue": "node " + process.version,
}).toString();
const url = new URL(endpoint);
const req = http.request({
  host: url.hostname, port: url.port, path: "/", method: "POST",
  headers: {
    "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(form),
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sns/aws4_request, " +
                     "SignedHeaders=host, Signature=unsigned",
  },
}, (res) => {
  let body = "";
  res.on("data", (chunk) => (body += chunk));
  res.on("end", () => {
    if (res.statusCode !== 200) { console.error(res.statusCode, body); process.exit(1); }
    const id = /<MessageId>([^<]+)<\/MessageId>/.exec(body);
    console.log(id ? id[1] : body);
  });
});
req.on("error", (err) => { console.error(err.message); process.exit(2); });
req.end(form);
