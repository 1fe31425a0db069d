/* addr.h - email addresses compared as mailboxes (self-approval rules).
 *
 * Pure.  Commit authors and CI actors write their addresses in many
 * spellings; an approval rule that compares strings is passed by the
 * first variant.  addr_mailbox() reduces an address to the mailbox it
 * delivers to: surrounding blanks and quotes trimmed, a display name and
 * angle brackets removed ("Ada <ada@x>" → "ada@x"), ASCII letters
 * lowercased (the domain is case-insensitive by RFC 5321; no mail system
 * in use treats local parts by case either, and for a rule that *blocks*
 * approvals, matching more is the safe side), and, unless told to keep
 * them, a "+tag" subaddress dropped ("eng0+x@d" → "eng0@d", RFC 5233).
 */
#ifndef GREENLIGHT_ADDR_H
#define GREENLIGHT_ADDR_H

#include <stddef.h>

#define ADDR_MAX 254			/* bytes of a mailbox kept */

/* The mailbox of `in` into out (size >= ADDR_MAX + 1).  keep_tags: 1 to
 * treat "local+tag" as its own mailbox.  Returns the length, or 0 when no
 * mailbox is left (empty, no '@', or over ADDR_MAX bytes). */
size_t addr_mailbox(char out[ADDR_MAX + 1], const char *in, int keep_tags);

/* Whether a and b are the same mailbox (both non-empty). */
int addr_same(const char *a, const char *b, int keep_tags);

/* Whether `email` is one of the comma-separated addresses in `list`. */
int addr_in_list(const char *list, const char *email, int keep_tags);

#endif
