// A Node service whose coverage the tests measure: /a runs alpha(), /b runs beta().
const http = require("http");

function alpha() {
  return "alpha";
}

function beta() {
  const value = "beta";
  return value;
}

http.createServer((req, res) => {
  const body = req.url === "/a" ? alpha() : req.url === "/b" ? beta() : "ok";
  res.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1");
