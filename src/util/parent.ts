/**
 * A child process that must not outlive its parent: a sweep's cell, run by `fmn sweep` or
 * `fmn worker`. When the parent dies (killed with SIGKILL, say), the child is re-parented; it
 * notices between two training steps and exits, so a cell taken over by another worker never
 * has two writers. Every file is written whole and renamed, so exiting at any moment is safe.
 */
export const PARENT_ENV = 'FMN_PARENT_PID';

/** Exits when the process named by $FMN_PARENT_PID is no longer this process's parent. */
export function exitWithParent(check = 250): void {
  const want = Number(process.env[PARENT_ENV]);
  if (!Number.isInteger(want) || want <= 0) return;
  const t = setInterval(() => {
    if (process.ppid !== want) {
      process.stderr.write(`fmn: parent process ${want} is gone; stopping (the last saved state is intact)\n`);
      process.exit(137);
    }
  }, check);
  t.unref();
}
