/**
 * What the Actions runner shows for an action's stdout: workflow commands are consumed, not printed.
 * `::add-mask::` registers a secret (every later occurrence becomes `***`), `::debug::` is hidden unless
 * debug logging is on, `::group::` opens a collapsible section, and `::error::`/`::warning::`/`::notice::`
 * become annotations, shown with their level. Lines may arrive split across chunks, so this buffers.
 */
export interface RunnerLog {
  write(chunk: string): void;
  end(): void;
}

export function runnerLog(out: (text: string) => void): RunnerLog {
  const secrets: string[] = [];
  let pending = '';
  const mask = (line: string) => secrets.reduce((text, secret) => text.split(secret).join('***'), line);
  const render = (line: string): string | undefined => {
    const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
    if (!command) return mask(line);
    const [, name, value] = command;
    const text = value!.replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%');
    switch (name) {
      case 'add-mask':
        if (text) secrets.push(text);
        return undefined;
      case 'debug':
      case 'endgroup':
        return undefined;
      case 'group':
        return `▸ ${mask(text)}`;
      case 'error':
        return `Error: ${mask(text)}`;
      case 'warning':
        return `Warning: ${mask(text)}`;
      case 'notice':
        return `Notice: ${mask(text)}`;
      default:
        return undefined;
    }
  };
  const flush = (line: string) => {
    const shown = render(line);
    if (shown !== undefined) out(`${shown}\n`);
  };
  return {
    write(chunk) {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) flush(line);
    },
    end() {
      if (pending) flush(pending);
      pending = '';
    },
  };
}
