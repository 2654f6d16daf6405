import { BOOLEAN_FLAGS, COMMAND_FLAGS } from "./args.js";

/** The shells `portico completion` writes a script for. */
export const SHELLS = ["bash", "zsh"] as const;

/** Shell: one of {@link SHELLS}. */
export type Shell = (typeof SHELLS)[number];

/** One line per command, as the zsh menu shows it. */
const SUMMARY: Readonly<Record<string, string>> = {
  plan: "plan the load balancers for a cluster dump",
  render: "write one LB node's files into a directory",
  apply: "apply the plan to this LB node's HAProxy and keepalived",
  run: "the controller loop for one LB node",
  doctor: "check this LB node",
  status: "what this LB node serves right now",
  tune: "spread packet processing over the cores",
  completion: "print a shell completion script (bash or zsh)",
};

/** What the value of a flag is, so the shell can offer the right words. */
const VALUE: Readonly<Record<string, "file" | "dir" | "output" | "none">> = {
  cluster: "file",
  config: "file",
  kubeconfig: "file",
  against: "file",
  out: "dir",
  "sysfs-root": "dir",
  "procfs-root": "dir",
  output: "output",
  node: "none",
  interval: "none",
};

const commands = (): string[] => [...Object.keys(COMMAND_FLAGS), "completion"];
const flagsOf = (command: string): readonly string[] => COMMAND_FLAGS[command] ?? [];

const bash = (): string => {
  const byCommand = commands()
    .map((c) => {
      const words = c === "completion" ? SHELLS.join(" ") : [...flagsOf(c).map((f) => `--${f}`), "--help"].join(" ");
      return `    ${c}) words="${words}" ;;`;
    })
    .join("\n");
  const files = Object.keys(VALUE)
    .filter((f) => VALUE[f] === "file")
    .map((f) => `--${f}`)
    .join("|");
  const dirs = Object.keys(VALUE)
    .filter((f) => VALUE[f] === "dir")
    .map((f) => `--${f}`)
    .join("|");
  const free = Object.keys(VALUE)
    .filter((f) => VALUE[f] === "none")
    .map((f) => `--${f}`)
    .join("|");
  return `# bash completion for portico. Load it with: source <(portico completion bash)
_portico() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands().join(" ")} --help --version" -- "$cur"))
    return 0
  fi
  case "$prev" in
    ${files}) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    ${dirs}) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --output) COMPREPLY=($(compgen -W "text json" -- "$cur")); return 0 ;;
    ${free}) COMPREPLY=(); return 0 ;;
  esac
  case "\${COMP_WORDS[1]}" in
${byCommand}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _portico portico
`;
};

const zshFlag = (flag: string): string => {
  const value = VALUE[flag] ?? "none";
  if (BOOLEAN_FLAGS.has(flag)) return `'--${flag}[${flag}]'`;
  const action = value === "file" ? "_files" : value === "dir" ? "_files -/" : value === "output" ? "(text json)" : " ";
  return `'--${flag}[${flag}]:${flag}:${action}'`;
};

const zsh = (): string => {
  const menu = commands()
    .map((c) => `    '${c}:${SUMMARY[c] ?? c}'`)
    .join("\n");
  const byCommand = commands()
    .map((c) => {
      const specs =
        c === "completion" ? [`'1:shell:(${SHELLS.join(" ")})'`] : [...flagsOf(c).map(zshFlag), "'--help[show help]'"];
      return `    ${c}) _arguments ${specs.join(" ")} ;;`;
    })
    .join("\n");
  return `#compdef portico
# zsh completion for portico. Load it with: source <(portico completion zsh) (after compinit),
# or save it as _portico in a directory on $fpath.
_portico() {
  local -a commands
  commands=(
${menu}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'portico command' commands
    return
  fi
  words=("\${(@)words[2,-1]}")
  (( CURRENT-- ))
  case $words[1] in
${byCommand}
  esac
}
if [ "$funcstack[1]" = "_portico" ]; then
  _portico "$@"
else
  compdef _portico portico
fi
`;
};

/** completionScript: the completion script for `shell`, derived from the flags each command accepts. */
export const completionScript = (shell: Shell): string => (shell === "bash" ? bash() : zsh());
