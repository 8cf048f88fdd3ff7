import { main } from './main.js';

// Entry point for bin/cradle: exit with the command's code once output is flushed.
// A reader that stops early (`cradle --help | head`) closes the pipe: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
