//! The TypeScript module of the wire types (`web/packages/client/src/contract.ts`), generated
//! with ts-rs from the same Rust types the server serializes. A test fails when the checked-in
//! file is stale; `scripts/contract` rewrites it.

use omw_domain::{
    Attachment, Booking, BookingStatus, Chat, ChatStatus, CloseReason, Message, MessageKind, Party,
    Role, Sender, SenderRole, SystemCode, SystemNotice,
};
use ts_rs::{Config, TS};

use super::{
    broadcast::{
        ChatAvailable, ChatClosed, MessagesRead, NewMessage, Presence, ServerEvent, TokenExpired,
        UserStatus, UserTyping,
    },
    reply::{
        AttachmentReply, BookingReply, ChainEntryView, ChatListItem, ChatReply, Chats, Done,
        ErrorReply, Health, HoldReply, HoldView, Joined, MessageReply, Messages, Participant,
        ReadMark, TokenExpiry, TranscriptKey, TranscriptReply, TranscriptView, VapidPublicKey,
    },
    request::{
        BookingPut, HoldPut, InChat, JoinChat, LeaveChat, MarkRead, PageRequest, PresenceReport,
        PushKeys, PushSubscriptionRequest, PushUnsubscribe, RefreshToken, SendMessage, Typing,
    },
};
use crate::service::{ErrorCode, ServiceError};

type Named = fn(&Config) -> String;

/// The client → server events: name, payload type, and the data of a successful ack.
pub const CLIENT_EVENTS: [(&str, Named, Named); 8] = [
    ("join_chat", name::<JoinChat>, name::<Joined>),
    ("leave_chat", name::<LeaveChat>, name::<Done>),
    (
        "send_message",
        name::<InChat<SendMessage>>,
        name::<MessageReply>,
    ),
    (
        "load_messages",
        name::<InChat<PageRequest>>,
        name::<Messages>,
    ),
    ("typing", name::<Typing>, name::<Done>),
    ("mark_read", name::<InChat<MarkRead>>, name::<ReadMark>),
    ("refresh_token", name::<RefreshToken>, name::<TokenExpiry>),
    ("presence", name::<PresenceReport>, name::<Done>),
];

/// The server → client events: name and payload type.
pub const SERVER_EVENTS: [(&str, Named); 7] = [
    event::<NewMessage<'static>>(),
    event::<ChatAvailable<'static>>(),
    event::<ChatClosed<'static>>(),
    event::<MessagesRead<'static>>(),
    event::<UserStatus<'static>>(),
    event::<UserTyping<'static>>(),
    event::<TokenExpired>(),
];

const fn event<E: ServerEvent + TS>() -> (&'static str, Named) {
    (E::NAME, name::<E>)
}

fn name<T: TS>(cfg: &Config) -> String {
    T::name(cfg)
}

/// `export type …` with the type's doc comment, as ts-rs writes one file per type.
fn decl<T: TS>(cfg: &Config) -> String {
    let docs = T::docs().unwrap_or_default();
    format!("{docs}export {}", one_member_per_line(&T::decl(cfg)))
}

/// ts-rs writes an object type on one line, broken wherever a field has a doc comment; lay the
/// outermost object's members out one per line, as a reader (and a diff) wants them.
fn one_member_per_line(decl: &str) -> String {
    let mut out = String::with_capacity(decl.len() + 64);
    let mut member = String::new();
    let mut members: Vec<String> = Vec::new();
    let (mut depth, mut comment, mut quoted) = (0usize, false, false);
    let mut chars = decl.chars().peekable();
    while let Some(c) = chars.next() {
        let text = if depth == 0 { &mut out } else { &mut member };
        if comment {
            text.push(c);
            if c == '*' && chars.peek() == Some(&'/') {
                text.push('/');
                chars.next();
                comment = false;
            }
            continue;
        }
        if quoted {
            text.push(c);
            quoted = c != '"';
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'*') => {
                comment = true;
                text.push(c);
            }
            '"' => {
                quoted = true;
                text.push(c);
            }
            '{' if depth == 0 => depth = 1,
            '}' if depth == 1 => {
                depth = 0;
                members.push(std::mem::take(&mut member));
                out.push_str(&object(&members));
                members.clear();
            }
            ',' if depth == 1 => members.push(std::mem::take(&mut member)),
            '{' | '<' | '(' | '[' => {
                depth += usize::from(depth > 0);
                text.push(c);
            }
            '}' | '>' | ')' | ']' => {
                depth -= usize::from(depth > 1);
                text.push(c);
            }
            _ => text.push(c),
        }
    }
    out
}

/// `{ a: T, /** doc */ b: U, }`'s members as a block: one per line, docs above, indented.
fn object(members: &[String]) -> String {
    let members: Vec<&str> = members
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .collect();
    if members.is_empty() {
        return "{}".into();
    }
    let mut out = String::from("{\n");
    for m in members {
        for line in m.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.pop();
        out.push_str(";\n");
    }
    out.push('}');
    out
}

macro_rules! decls {
    ($cfg:expr; $($t:ty),* $(,)?) => { [$(decl::<$t>($cfg)),*] };
}

/// The whole module.
pub fn module() -> String {
    // i64 counts and seqs stay far below 2^53: plain numbers in JavaScript.
    let cfg = &Config::new().with_large_int("number");
    let types = decls!(cfg;
        Role, BookingStatus, CloseReason, ChatStatus, Party, Booking, Chat,
        MessageKind, SenderRole, Sender, Attachment, SystemCode, SystemNotice, Message,
        ErrorCode, ServiceError, ErrorReply,
        InChat<Done>, JoinChat, LeaveChat, SendMessage, PageRequest, MarkRead, Typing,
        RefreshToken, PresenceReport, BookingPut, HoldPut, PushKeys, PushSubscriptionRequest,
        PushUnsubscribe,
        Done, MessageReply, Messages, ChatReply, ChatListItem, Chats, ReadMark, TokenExpiry,
        Participant, Joined, BookingReply, AttachmentReply, Health, VapidPublicKey, HoldView,
        HoldReply, ChainEntryView, TranscriptView, TranscriptReply, TranscriptKey,
        NewMessage<'static>, ChatAvailable<'static>, ChatClosed<'static>, MessagesRead<'static>,
        Presence, UserStatus<'static>, UserTyping<'static>,
        TokenExpired,
    );
    let mut out = String::from(
        "// Generated from the Rust wire types (crates/server/src/wire) by scripts/contract.\n\
         // Do not edit: change the Rust types and run scripts/contract.\n",
    );
    for t in types {
        out.push('\n');
        out.push_str(&t);
        out.push('\n');
    }
    out.push_str(
        "\n/** Client → server events: the payload, and the data of an `ok: true` ack. */\n",
    );
    out.push_str("export interface ClientEvents {\n");
    for (event, payload, ack) in CLIENT_EVENTS {
        out.push_str(&format!(
            "  {event}: {{ payload: {}; ack: {} }};\n",
            payload(cfg),
            ack(cfg)
        ));
    }
    out.push_str("}\n\n/** Server → client events and their payloads. */\n");
    out.push_str("export interface ServerEvents {\n");
    for (event, payload) in SERVER_EVENTS {
        out.push_str(&format!("  {event}: {};\n", payload(cfg)));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_laid_out_one_member_per_line() {
        let decl = "type A = { a: string, \n/**\n * Doc, with { braces }.\n */\nb: { [key in string]: \"x,}\" }, c: Array<{ d: number, }>, } & T;";
        assert_eq!(
            one_member_per_line(decl),
            "type A = {\n  a: string;\n  /**\n   * Doc, with { braces }.\n   */\n  b: { [key in string]: \"x,}\" };\n  c: Array<{ d: number, }>;\n} & T;"
        );
        assert_eq!(
            one_member_per_line("type D = Record<symbol, never>;"),
            "type D = Record<symbol, never>;"
        );
        assert_eq!(one_member_per_line("type E = {  };"), "type E = {};");
    }
}
