/** A command: parses its own argv, returns the exit code (0 ok, 1 gate failed, 2 usage). */
export interface Command { run: (argv: string[]) => Promise<number> }
