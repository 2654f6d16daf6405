/**
 * How many server slots a backend rendered for `servers` servers holds when nothing is installed
 * yet: at least one spare, in blocks of eight. A renderer keeps the installed count while the
 * servers fit, so membership changes fill and empty slots through HAProxy's runtime API; only
 * outgrowing the slots changes the file's shape (a reload). The diff uses the same rule to tell
 * a runtime change from an overflow.
 */
export const serverSlotCount = (servers: number): number => 8 * Math.ceil((servers + 1) / 8);
