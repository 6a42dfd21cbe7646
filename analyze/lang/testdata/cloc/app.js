// Application entry point.
'use strict';

const path = require('path'); // trailing comment

/* Configuration:
   a block comment over lines */
const config = {
  pattern: '/*.js',
  url: "http://localhost:8080/api",
  glob: "lib/**/*.js", // the */ in the string does not close anything
};

const re = /\/\*.*\*\//g; // a regex literal holding comment markers
const half = 10 / 2; /* division, then a comment */

function render(items) {
  const html = `
    <ul>
      // not a comment: template literal
      ${items.map((it) => `<li>${it.name /* inline */}</li>`).join('')}
    </ul>
  `;
  return html;
}

const handler = async (req, res) => {
  if (!req.ok || req.status === 404) {
    return res.send('//');
  }
  return res.send(render(req.items));
};

module.exports = { render, handler, re, half, path, config };
