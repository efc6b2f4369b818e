import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { AppError } from '../errors.ts';

export interface DirectoryLock {
  release(): void;
}

/**
 * Takes an exclusive lock file holding this process's PID. A lock left by a process that no
 * longer exists (a crash, `kill -9`) is taken over; a live owner is an error that names it.
 */
export function acquireDirectoryLock(lockPath: string): DirectoryLock {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(lockPath);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new AppError('database_locked', {
          message: `The embedded database is in use by another Parley process (PID ${owner}, lock file ${lockPath}). Stop it, or set PGLITE_DIR to another directory.`,
        });
      }
      unlinkSync(lockPath);
    }
  }
  throw new AppError('database_locked', { message: `Could not take the lock ${lockPath}` });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
