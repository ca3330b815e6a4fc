import { Fragment } from 'react';
import Link from '@mui/material/Link';

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

/** Plain text with http(s) links made clickable. Everything is rendered as text, never as HTML. */
export function Linkified({ text }: { text: string }) {
  const parts: Array<{ text: string; href?: string }> = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0];
    // Trailing punctuation belongs to the sentence, not the link.
    const trail = /[.,;:!?)\]]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    const start = m.index;
    if (start > last) parts.push({ text: text.slice(last, start) });
    parts.push({ text: url, href: url });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return (
    <>
      {parts.map((p, i) =>
        p.href ? (
          <Link key={i} href={p.href} target="_blank" rel="noopener noreferrer nofollow" color="inherit" sx={{ wordBreak: 'break-all' }}>
            {p.text}
          </Link>
        ) : (
          <Fragment key={i}>{p.text}</Fragment>
        ),
      )}
    </>
  );
}
