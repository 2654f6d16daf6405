/** A short, printable preview of untrusted text for error messages (never for config files). */
export const preview = (text: unknown, max = 64): string => {
  const s = typeof text === "string" ? text : String(text);
  const shown = JSON.stringify(s.length > max ? s.slice(0, max) : s).slice(1, -1);
  return s.length > max ? `${shown}…` : shown;
};
