/**
 * `peridio completion bash|zsh`: scripts generated from the command table, so a new resource or flag
 * completes without touching this file. Load with `source <(peridio completion bash)`.
 */
import { GLOBAL_FLAGS } from './args.js';
import type { ResourceSpec } from './spec.js';
import { UsageError } from './spec.js';

export function completionScript(shell: string | undefined, resources: ResourceSpec[]): string {
  const globals = GLOBAL_FLAGS.map((f) => `--${f.name}`).join(' ');
  const resourceNames = [...resources.map((r) => r.name), 'completion'].join(' ');
  // A nested verb (`devices add`) completes its first word as a verb, then its second as a sub-verb.
  const names = (v: ResourceSpec['verbs'][number]) => [v.name, ...(v.aliases ?? [])];
  const verbCases = resources
    .map(
      (r) =>
        `    ${r.name}) verbs="${[...new Set(r.verbs.flatMap(names).map((n) => n.split(' ')[0]))].join(' ')}" ;;`,
    )
    .join('\n');
  const subCases = resources
    .flatMap((r) => {
      const groups = new Map<string, string[]>();
      for (const [group, sub] of r.verbs.flatMap(names).map((n) => n.split(' '))) {
        if (sub !== undefined) groups.set(group!, [...(groups.get(group!) ?? []), sub]);
      }
      return [...groups].map(([group, subs]) => `    "${r.name} ${group}") subs="${subs.join(' ')}" ;;`);
    })
    .join('\n');
  const flagCases = resources
    .flatMap((r) =>
      r.verbs.flatMap((v) =>
        names(v).map(
          (name) =>
            `    "${r.name} ${name}") flags="${v.flags.flatMap((f) => [f.name, ...(f.aliases ?? [])].map((n) => `--${n}`)).join(' ')}" ;;`,
        ),
      ),
    )
    .join('\n');
  // Both shells run the same word logic: the first non-flag words pick resource, verb and sub-verb.
  const body = `  local resource="" verb="" sub="" w i skip=0
  for ((i = 1; i < cword; i++)); do
    w="\${words[i]}"
    if [[ $skip == 1 ]]; then skip=0; continue; fi
    case "$w" in
      --verbose|--help|-h|--version) ;;
      --*=*) ;;
      -*) skip=1 ;;
      *) if [[ -z $resource ]]; then resource="$w"; elif [[ -z $verb ]]; then verb="$w"; elif [[ -z $sub ]]; then sub="$w"; fi ;;
    esac
  done
  local verbs="" subs="" flags=""
  case "$resource" in
${verbCases}
    completion) verbs="bash zsh" ;;
  esac
  case "$resource $verb" in
${subCases}
  esac
  local key="$resource $verb"
  if [[ -n $subs ]]; then key="$resource $verb $sub"; fi
  case "$key" in
${flagCases}
  esac
  local cur="\${words[cword]}" candidates
  if [[ $cur == -* ]]; then candidates="$flags ${globals}"
  elif [[ -z $resource ]]; then candidates="${resourceNames}"
  elif [[ -z $verb ]]; then candidates="$verbs"
  elif [[ -n $subs && -z $sub ]]; then candidates="$subs"
  else candidates=""
  fi`;
  if (shell === 'bash') {
    return `# bash completion for peridio: source <(peridio completion bash)
_peridio() {
  local cword=$COMP_CWORD
  local -a words=("\${COMP_WORDS[@]}")
${body}
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F _peridio peridio
`;
  }
  if (shell === 'zsh') {
    return `#compdef peridio
# zsh completion for peridio: source <(peridio completion zsh)
_peridio() {
  local cword=$((CURRENT - 1))
  local -a words=("\${(@)words[1,-1]}")
  words=("\${(@)words}")
  setopt localoptions ksharrays
${body}
  compadd -- \${=candidates}
}
compdef _peridio peridio
`;
  }
  throw new UsageError(`completion needs a shell: bash or zsh${shell ? `, got '${shell}'` : ''}`);
}
