//! The tamper-evident transcript (SPEC §9.7). Every event of a chat appends one entry to an
//! append-only hash chain: `hash_i = SHA-256(hash_{i-1} ‖ canonical_i)`, from the chat's own
//! [`genesis`] hash, so even an empty chain's head names its chat.
//! `canonical_i` is the entry's JSON as stored, with a random salt, so a hash alone reveals
//! nothing of what it covers. The service signs the last hash; [`verify`] checks a transcript
//! offline and names the first thing that does not hold.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    message::{Message, MessageKind, SenderRole},
    time::{Millis, serde_rfc3339},
};

/// The canonical form's version.
pub const VERSION: u32 = 1;
/// The hash before a chat's first entry: SHA-256 of `omw-chat/chain/1|<chat id>`.
pub fn genesis(chat_id: &str) -> [u8; 32] {
    Sha256::digest(format!("omw-chat/chain/1|{chat_id}")).into()
}
/// Random bytes in every entry.
pub const SALT_BYTES: usize = 16;

/// One entry of a chat's chain, as its canonical bytes encode it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub v: u32,
    pub chat_id: String,
    /// Its place in the chain, from 1.
    pub n: i64,
    /// Hex of [`SALT_BYTES`] random bytes.
    pub salt: String,
    pub event: Event,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    MessageStored { message: MessageFacts },
}

/// A message as the chain records it. Its JSON shape is a subset of the wire's message, so a
/// transcript's messages read back into it for comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFacts {
    pub id: String,
    pub seq: i64,
    pub sender: SenderFacts,
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment: Option<FileFacts>,
    #[serde(with = "serde_rfc3339")]
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderFacts {
    pub id: String,
    pub role: SenderRole,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
}

impl From<&Message> for MessageFacts {
    fn from(m: &Message) -> Self {
        MessageFacts {
            id: m.id.clone(),
            seq: m.seq,
            sender: SenderFacts {
                id: m.sender.id.clone(),
                role: m.sender.role,
                name: m.sender.name.clone(),
            },
            kind: m.kind,
            body: m.body.clone(),
            attachment: m.attachment.as_ref().map(|a| FileFacts {
                id: a.id.clone(),
                name: a.name.clone(),
                mime: a.mime.clone(),
                size: a.size,
            }),
            created_at: m.created_at,
        }
    }
}

impl Entry {
    pub fn new(chat_id: &str, n: i64, salt: &[u8; SALT_BYTES], event: Event) -> Entry {
        Entry {
            v: VERSION,
            chat_id: chat_id.to_owned(),
            n,
            salt: hex::encode(salt),
            event,
        }
    }

    /// The bytes the chain hashes: compact JSON in the fields' declared order.
    pub fn canonical(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(canonical: &[u8]) -> Option<Entry> {
        serde_json::from_slice(canonical).ok()
    }

    fn message(&self) -> &MessageFacts {
        match &self.event {
            Event::MessageStored { message } => message,
        }
    }
}

/// The next hash of the chain.
pub fn link(prev: &[u8; 32], canonical: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

/// A stored hash (hex) back to bytes.
pub fn parse_hash(hex_hash: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_hash, &mut out).ok()?;
    Some(out)
}

/// One entry as a transcript carries it: its canonical bytes (`None` where they could not be
/// read back from storage) and its hash (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    pub canonical: Option<Vec<u8>>,
    pub hash: String,
}

/// The highest message seq the chain records, if any: a transcript lists messages up to it.
pub fn last_message_seq(entries: &[ChainEntry]) -> Option<i64> {
    entries
        .iter()
        .filter_map(|e| Entry::parse(e.canonical.as_deref()?))
        .map(|e| e.message().seq)
        .max()
}

/// The first thing in a transcript that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Entry `n` (1-based, in the transcript's order) is altered, moved or missing bytes.
    #[error("entry {n}: {what}")]
    Entry { n: usize, what: String },
    #[error("head: {0}")]
    Head(String),
    /// A message that the chain contradicts, or lacks.
    #[error("message {id}: {what}")]
    Message { id: String, what: String },
}

/// What a transcript that holds contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub entries: usize,
    pub messages: usize,
    /// Messages stored before the chat's chain began (none for chats created since), by seq.
    pub before_chain: Vec<i64>,
}

/// Check a chat's chain and its messages: every entry's hash follows from the one before and
/// its own bytes, each names its chat and place, the head is the last hash, and the messages
/// are exactly those the chain records, as it records them. The signature over the head is the
/// caller's to check.
pub fn verify(
    chat_id: &str,
    entries: &[ChainEntry],
    head: &str,
    messages: &[MessageFacts],
) -> Result<Checked, Problem> {
    let mut prev = genesis(chat_id);
    // What the chain records, by message id.
    let mut recorded: HashMap<String, MessageFacts> = HashMap::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let n = i + 1;
        let bad = |what: &str| Problem::Entry {
            n,
            what: what.to_owned(),
        };
        let canonical = e.canonical.as_deref().ok_or_else(|| {
            bad("its bytes could not be read back: they were altered or moved in storage")
        })?;
        let hash = link(&prev, canonical);
        if parse_hash(&e.hash) != Some(hash) {
            return Err(bad(
                "its hash does not follow from its bytes and the entry before it",
            ));
        }
        let entry = Entry::parse(canonical).ok_or_else(|| bad("its bytes are not an entry"))?;
        if entry.v != VERSION {
            return Err(bad(&format!("it is of version {}, not {VERSION}", entry.v)));
        }
        if entry.n != n as i64 {
            return Err(bad(&format!("it says it is entry {}", entry.n)));
        }
        if entry.chat_id != chat_id {
            return Err(bad(&format!("it belongs to chat {}", entry.chat_id)));
        }
        let message = entry.message();
        if recorded
            .insert(message.id.clone(), message.clone())
            .is_some()
        {
            return Err(bad(&format!("it records message {} again", message.id)));
        }
        prev = hash;
    }
    if parse_hash(head) != Some(prev) {
        return Err(Problem::Head(
            "the signed head is not the last entry's hash: entries are missing or added".into(),
        ));
    }

    if recorded.is_empty() && !messages.is_empty() {
        return Err(Problem::Head(format!(
            "the chain is empty: it vouches for none of the {} messages",
            messages.len()
        )));
    }
    let first_chained = recorded.values().map(|m| m.seq).min();
    let mut before_chain = Vec::new();
    let mut seen = HashSet::new();
    for m in messages {
        if !seen.insert(m.id.as_str()) || before_chain.contains(&m.seq) {
            return Err(Problem::Message {
                id: m.id.clone(),
                what: "it appears twice".into(),
            });
        }
        match recorded.get(&m.id) {
            Some(r) => {
                if let Some(field) = differs(r, m) {
                    return Err(Problem::Message {
                        id: m.id.clone(),
                        what: format!("its {field} is not what the chain recorded"),
                    });
                }
            }
            // Seqs start at 1: a chain that begins there leaves no room before it.
            None if m.seq >= 1 && first_chained.is_none_or(|first| m.seq < first) => {
                before_chain.push(m.seq)
            }
            None => {
                return Err(Problem::Message {
                    id: m.id.clone(),
                    what: "it is not in the chain".into(),
                });
            }
        }
    }
    // In chain order, so the first one missing is named.
    let missing = entries
        .iter()
        .filter_map(|e| Entry::parse(e.canonical.as_deref()?))
        .map(|e| e.message().id.clone())
        .find(|id| !seen.contains(id.as_str()));
    if let Some(id) = missing {
        return Err(Problem::Message {
            id,
            what: "the chain records it, the transcript lacks it".into(),
        });
    }
    // Those from before the chain are its first messages, each once: none slipped in between.
    before_chain.sort_unstable();
    if let Some(gap) = before_chain
        .iter()
        .zip(1..)
        .find(|(seq, want)| **seq != *want)
        .map(|(_, want)| want)
    {
        return Err(Problem::Message {
            id: format!("at seq {gap}"),
            what: "the messages from before the chain do not run from 1 without a gap".into(),
        });
    }
    Ok(Checked {
        entries: entries.len(),
        messages: messages.len(),
        before_chain,
    })
}

/// The first field in which a message differs from its record.
fn differs(recorded: &MessageFacts, m: &MessageFacts) -> Option<&'static str> {
    [
        ("seq", recorded.seq == m.seq),
        ("sender", recorded.sender == m.sender),
        ("kind", recorded.kind == m.kind),
        ("body", recorded.body == m.body),
        ("attachment", recorded.attachment == m.attachment),
        ("created_at", recorded.created_at == m.created_at),
    ]
    .into_iter()
    .find(|(_, same)| !same)
    .map(|(field, _)| field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(seq: i64, body: &str) -> MessageFacts {
        MessageFacts {
            id: format!("m{seq}"),
            seq,
            sender: SenderFacts {
                id: "u1".into(),
                role: SenderRole::Customer,
                name: "Ana".into(),
            },
            kind: MessageKind::Text,
            body: Some(body.into()),
            attachment: None,
            created_at: 1_700_000_000_000 + seq,
        }
    }

    /// A chain over `messages` whose i-th entry says it is entry `n(i)`, and its head.
    fn chain_numbered(
        messages: &[MessageFacts],
        n: impl Fn(usize) -> i64,
    ) -> (Vec<ChainEntry>, String) {
        let mut prev = genesis("c1");
        let mut out = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let salt = [i as u8; SALT_BYTES];
            let message = m.clone();
            let canonical = Entry::new("c1", n(i), &salt, Event::MessageStored { message });
            let canonical = canonical.canonical();
            prev = link(&prev, canonical.as_bytes());
            out.push(ChainEntry {
                canonical: Some(canonical.into_bytes()),
                hash: hex::encode(prev),
            });
        }
        (out, hex::encode(prev))
    }

    /// A chain over `messages`, and its head.
    fn chain(messages: &[MessageFacts]) -> (Vec<ChainEntry>, String) {
        chain_numbered(messages, |i| i as i64 + 1)
    }

    fn three() -> (Vec<MessageFacts>, Vec<ChainEntry>, String) {
        let msgs = vec![
            facts(1, "hello"),
            facts(2, "gate code 4411"),
            facts(3, "ok"),
        ];
        let (entries, head) = chain(&msgs);
        (msgs, entries, head)
    }

    #[test]
    fn an_intact_transcript_verifies() {
        let (msgs, entries, head) = three();
        let checked = verify("c1", &entries, &head, &msgs).unwrap();
        assert_eq!((checked.entries, checked.messages), (3, 3));
        assert!(checked.before_chain.is_empty());
        assert_eq!(last_message_seq(&entries), Some(3));
        // An empty chat: the head is the genesis hash.
        assert!(verify("c1", &[], &hex::encode(genesis("c1")), &[]).is_ok());
        // Another chat's empty chain, or messages no chain vouches for.
        assert!(verify("c2", &[], &hex::encode(genesis("c1")), &[]).is_err());
        assert!(matches!(
            verify("c1", &[], &hex::encode(genesis("c1")), &[facts(1, "hi")]),
            Err(Problem::Head(_))
        ));
    }

    #[test]
    fn the_canonical_form_is_stable_json_with_a_salt() {
        let e = Entry::new(
            "c1",
            1,
            &[0xab; SALT_BYTES],
            Event::MessageStored {
                message: facts(1, "hi"),
            },
        );
        assert_eq!(
            e.canonical(),
            format!(
                "{{\"v\":1,\"chat_id\":\"c1\",\"n\":1,\"salt\":\"{}\",\"event\":{{\"type\":\
                 \"message_stored\",\"message\":{{\"id\":\"m1\",\"seq\":1,\"sender\":{{\"id\":\
                 \"u1\",\"role\":\"customer\",\"name\":\"Ana\"}},\"kind\":\"text\",\"body\":\
                 \"hi\",\"attachment\":null,\"created_at\":\"2023-11-14T22:13:20.001Z\"}}}}}}",
                "ab".repeat(SALT_BYTES)
            )
        );
        assert_eq!(Entry::parse(e.canonical().as_bytes()), Some(e));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let (msgs, mut entries, head) = three();
        // The body changed, the hash kept.
        let text = String::from_utf8(entries[1].canonical.clone().unwrap()).unwrap();
        entries[1].canonical = Some(text.replace("4411", "9999").into_bytes());
        let err = verify("c1", &entries, &head, &msgs).unwrap_err();
        assert!(matches!(err, Problem::Entry { n: 2, .. }), "{err}");

        // The stored hash changed instead.
        let (msgs, mut entries, head) = three();
        entries[2].hash = hex::encode([1u8; 32]);
        let err = verify("c1", &entries, &head, &msgs).unwrap_err();
        assert!(matches!(err, Problem::Entry { n: 3, .. }), "{err}");

        // An entry of a version this verifier does not know.
        let (msgs, mut entries, _) = three();
        let text = String::from_utf8(entries[0].canonical.clone().unwrap()).unwrap();
        let other = text.replacen("\"v\":1", "\"v\":9", 1);
        let hash = link(&genesis("c1"), other.as_bytes());
        entries[0] = ChainEntry {
            canonical: Some(other.into_bytes()),
            hash: hex::encode(hash),
        };
        let err = verify("c1", &entries[..1], &hex::encode(hash), &msgs[..1]).unwrap_err();
        assert_eq!(
            err,
            Problem::Entry {
                n: 1,
                what: "it is of version 9, not 1".into()
            }
        );

        // Bytes that could not be opened.
        let (msgs, mut entries, head) = three();
        entries[0].canonical = None;
        let err = verify("c1", &entries, &head, &msgs).unwrap_err();
        assert!(matches!(err, Problem::Entry { n: 1, .. }), "{err}");
    }

    #[test]
    fn reordered_or_dropped_entries_are_named() {
        let (msgs, mut entries, head) = three();
        entries.swap(1, 2);
        let err = verify("c1", &entries, &head, &msgs).unwrap_err();
        assert!(matches!(err, Problem::Entry { n: 2, .. }), "{err}");

        let (msgs, mut entries, head) = three();
        entries.pop();
        assert!(matches!(
            verify("c1", &entries, &head, &msgs),
            Err(Problem::Head(_))
        ));

        // Reordered and every hash recomputed: each entry says where it belongs.
        let (mut msgs, _, _) = three();
        msgs.swap(0, 1);
        let (entries, head) = chain_numbered(&msgs, |i| if i < 2 { 2 - i as i64 } else { 3 });
        let err = verify("c1", &entries, &head, &msgs).unwrap_err();
        assert_eq!(
            err,
            Problem::Entry {
                n: 1,
                what: "it says it is entry 2".into()
            }
        );
        // Another chat's chain.
        let (msgs, entries, head) = three();
        assert!(matches!(
            verify("c2", &entries, &head, &msgs),
            Err(Problem::Entry { n: 1, .. })
        ));
    }

    #[test]
    fn messages_must_be_what_the_chain_recorded() {
        let (mut msgs, entries, head) = three();
        msgs[2].body = Some("not ok".into());
        assert_eq!(
            verify("c1", &entries, &head, &msgs).unwrap_err(),
            Problem::Message {
                id: "m3".into(),
                what: "its body is not what the chain recorded".into()
            }
        );
        let (mut msgs, entries, head) = three();
        msgs.remove(1);
        assert!(matches!(
            verify("c1", &entries, &head, &msgs),
            Err(Problem::Message { id, .. }) if id == "m2"
        ));
        let (mut msgs, entries, head) = three();
        msgs.push(facts(4, "slipped in"));
        assert!(matches!(
            verify("c1", &entries, &head, &msgs),
            Err(Problem::Message { id, .. }) if id == "m4"
        ));
        // Slipped in before the first message, or shown twice.
        let (mut msgs, entries, head) = three();
        msgs.insert(0, facts(0, "before it all"));
        assert!(matches!(
            verify("c1", &entries, &head, &msgs),
            Err(Problem::Message { id, .. }) if id == "m0"
        ));
        let (mut msgs, entries, head) = three();
        msgs.push(msgs[1].clone());
        assert_eq!(
            verify("c1", &entries, &head, &msgs).unwrap_err(),
            Problem::Message {
                id: "m2".into(),
                what: "it appears twice".into()
            }
        );
    }

    #[test]
    fn messages_from_before_the_chain_are_reported_not_refused() {
        let old = facts(1, "from before");
        let later = vec![facts(2, "a"), facts(3, "b")];
        let (entries, head) = chain(&later);
        let all = [vec![old], later].concat();
        let checked = verify("c1", &entries, &head, &all).unwrap();
        assert_eq!(checked.before_chain, vec![1]);
    }

    #[test]
    fn wire_messages_read_back_as_facts() {
        let wire = serde_json::json!({
            "id": "m1", "chat_id": "c1", "seq": 1,
            "sender": { "id": "u1", "role": "customer", "name": "Ana" },
            "kind": "text", "body": "hi", "attachment": null, "client_id": "x",
            "created_at": "2023-11-14T22:13:20.001Z"
        });
        let f: MessageFacts = serde_json::from_value(wire).unwrap();
        assert_eq!(f, facts(1, "hi"));
    }
}
