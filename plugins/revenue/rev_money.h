/* rev_money.h — purchases and revenue: the purchase event in event_list,
 * the amounts of product_list in exact integer cents, and their printing. */
#ifndef REV_MONEY_H
#define REV_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Does the event list s[0..n) hold the purchase event (id "1")? Lists
 * holding a caret are split on unescaped separators only (see rev_money.c). */
int rev_is_purchase(const char *s, size_t n);

typedef enum rev_amount_status {
    REV_AMOUNT_OK = 0,
    REV_AMOUNT_EMPTY = 1, /* empty or only spaces: 0, not a warning */
    REV_AMOUNT_BAD = -1   /* not digits[.digits]: 0 and a warning */
} rev_amount_status;

/* Largest integer part accepted, in digits (leading zeros aside). */
#define REV_AMOUNT_MAX_DIGITS 15

/* Parse an amount, rounded to cents half away from zero, into *cents. */
rev_amount_status rev_amount_cents(const char *s, size_t n, int64_t *cents);

/* Sum of the 4th ';'-field of every ','-separated product of s[0..n).
 * Each rejected amount increments *bad (and calls on_bad when not NULL,
 * with the amount's text) and counts 0. */
int64_t rev_product_revenue(const char *s, size_t n, uint64_t *bad,
                            void (*on_bad)(void *ctx, const char *amount, size_t len),
                            void *ctx);

/* *acc += v, saturating at INT64_MAX; -1 when it saturated. */
int rev_cents_add(int64_t *acc, int64_t v);

/* Print cents as "D.DD" (no separators) into buf (>= 24 bytes); length. */
size_t rev_format_cents(int64_t cents, char *buf);

#endif
