import type { MessageDescriptor } from 'react-intl';

/**
 * The messages of a module, by name. An identity like react-intl's `defineMessages`, but with
 * untyped descriptors (react-intl 12 types a descriptor's values as none unless spelled out);
 * FormatJS's extractor and ESLint plugin find the messages by this function's name.
 */
export function defineMessages<K extends string>(messages: Record<K, MessageDescriptor>): Record<K, MessageDescriptor> {
  return messages;
}
