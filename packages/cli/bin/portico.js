#!/usr/bin/env node
// npm links a package's bin only when the file exists at install time, and dist/ is built after
// `npm ci`; this committed file is what it links, and it loads the build.
import "../dist/bin.js";
