import { main } from './main.js';

// Entry point for bin/cradle: exit with the command's code once output is flushed.
main(process.argv).then((code) => {
  process.exitCode = code;
});
