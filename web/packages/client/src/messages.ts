import type { Message } from './types';

/**
 * Merge `incoming` into `current` (both oldest first): deduplicated by id, by seq and by the
 * sender's client_id, sorted by seq. Returns `current` itself when nothing changed.
 */
export function mergeMessages(current: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return current as Message[];
  const byId = new Set(current.map((m) => m.id));
  const bySeq = new Set(current.map((m) => m.seq));
  const byClient = new Set(current.filter((m) => m.client_id).map((m) => `${m.sender.id}\u0000${m.client_id}`));
  const added: Message[] = [];
  for (const m of incoming) {
    const ck = m.client_id ? `${m.sender.id}\u0000${m.client_id}` : null;
    if (byId.has(m.id) || bySeq.has(m.seq) || (ck && byClient.has(ck))) continue;
    byId.add(m.id);
    bySeq.add(m.seq);
    if (ck) byClient.add(ck);
    added.push(m);
  }
  if (added.length === 0) return current as Message[];
  const last = current.at(-1);
  const sortedAdded = added.sort((a, b) => a.seq - b.seq);
  // Fast path: appending newer messages.
  if (!last || sortedAdded[0]!.seq > last.seq) return [...current, ...sortedAdded];
  return [...current, ...sortedAdded].sort((a, b) => a.seq - b.seq);
}
