// node_http.js: a node.js `http` server and client that check SHA-256.
//
// Used by tests/integration/apps_lang.sh to run node.js (libuv, its own
// event loop and stream flow control) under the shim.
//
//   node node_http.js server HOST PORT DIR
//       GET /NAME   streams DIR/NAME
//       PUT /NAME   hashes the body, stores it as DIR/NAME, answers
//                   {"bytes": N, "sha256": "..."}
//   node node_http.js get HOST PORT NAME OUT SHA256
//       downloads NAME into OUT; exit 1 unless its sha256 is SHA256
//   node node_http.js put HOST PORT NAME FILE
//       uploads FILE as NAME; exit 1 unless the server's answer matches
//       the file's size and sha256
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

function note(msg) {
	process.stderr.write('node_http: ' + msg + '\n');
}

function fail(msg) {
	note(msg);
	process.exit(1);
}

function fileSha256(file) {
	return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function server(host, port, dir) {
	const srv = http.createServer((req, res) => {
		const name = path.basename(decodeURIComponent(req.url));
		const file = path.join(dir, name);
		if (req.method === 'GET') {
			fs.stat(file, (err, st) => {
				if (err) {
					res.writeHead(404);
					res.end();
					return;
				}
				res.writeHead(200, {'Content-Length': st.size});
				fs.createReadStream(file).pipe(res);
			});
		} else if (req.method === 'PUT') {
			const h = crypto.createHash('sha256');
			const out = fs.createWriteStream(file);
			let n = 0;
			req.on('data', (b) => {
				h.update(b);
				n += b.length;
			});
			req.pipe(out);
			out.on('finish', () => {
				const body = JSON.stringify({bytes: n, sha256: h.digest('hex')});
				note('server: PUT ' + name + ' ' + body);
				res.writeHead(200, {'Content-Type': 'application/json'});
				res.end(body);
			});
		} else {
			res.writeHead(405);
			res.end();
		}
	});
	srv.listen(Number(port), host, () => note('server: listening on ' + host + ' port ' + port));
}

function get(host, port, name, out, want) {
	const req = http.get({host, port: Number(port), path: '/' + name, agent: false}, (res) => {
		if (res.statusCode !== 200)
			fail('get: HTTP ' + res.statusCode);
		const h = crypto.createHash('sha256');
		const f = fs.createWriteStream(out);
		let n = 0;
		res.on('data', (b) => {
			h.update(b);
			n += b.length;
		});
		res.on('error', (e) => fail('get: ' + e.message));
		res.pipe(f);
		f.on('finish', () => {
			const got = h.digest('hex');
			note('get: ' + n + ' B sha256 ' + got);
			if (got !== want)
				fail('get: MISMATCH, want ' + want);
		});
	});
	req.on('error', (e) => fail('get: ' + e.message));
}

function put(host, port, name, file) {
	const size = fs.statSync(file).size;
	const want = fileSha256(file);
	const req = http.request({host, port: Number(port), path: '/' + name, method: 'PUT', agent: false,
		headers: {'Content-Length': size}}, (res) => {
		let body = '';
		res.setEncoding('utf8');
		res.on('data', (s) => { body += s; });
		res.on('end', () => {
			note('put: ' + size + ' B sha256 ' + want + ', server: ' + body);
			let r;
			try {
				r = JSON.parse(body);
			} catch (e) {
				fail('put: bad answer ' + JSON.stringify(body));
			}
			if (res.statusCode !== 200 || r.bytes !== size || r.sha256 !== want)
				fail('put: MISMATCH');
		});
	});
	req.on('error', (e) => fail('put: ' + e.message));
	fs.createReadStream(file).pipe(req);
}

const a = process.argv.slice(2);
if (a[0] === 'server' && a.length === 4)
	server(a[1], a[2], a[3]);
else if (a[0] === 'get' && a.length === 6)
	get(a[1], a[2], a[3], a[4], a[5]);
else if (a[0] === 'put' && a.length === 5)
	put(a[1], a[2], a[3], a[4]);
else
	fail('usage: node_http.js server HOST PORT DIR | get HOST PORT NAME OUT SHA256 | put HOST PORT NAME FILE');
