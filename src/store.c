/* store.c - which backend a store uses, and store.h's calls dispatched to
 * it (struct store_ops, store_int.h).
 *
 * A --db value naming a postgres:// or postgresql:// URL opens PostgreSQL
 * (store_pg.c: several relays may share it); anything else is the path of
 * a SQLite file (store_db.c); store_url.c tells them apart.
 */
#include <string.h>

#include "store_int.h"
#include "util.h"

struct store *store_open(const char *path)
{
	if (store_is_url(path))
		return pg_open(path);
	return sq_open(path);
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

const char *store_backend(const struct store *s)
{
	return s->ops->name;
}

int store_shared(const struct store *s)
{
	return s->ops->shared;
}

int store_request_put(struct store *s, const struct store_new_request *nr,
		      struct store_request *out, int *created)
{
	return s->ops->request_put(s, nr, out, created);
}

int store_request_rekey(struct store *s, const char *id,
			const struct store_recipient *recipients, size_t n)
{
	return s->ops->request_rekey(s, id, recipients, n);
}

int store_request_set_notified(struct store *s, const char *id, int notified)
{
	return s->ops->request_set_notified(s, id, notified);
}

int store_recipient_adopt(struct store *s, const char *id, const char *email,
			  const char *team, const char *token_hash)
{
	return s->ops->recipient_adopt(s, id, email, team, token_hash);
}

int store_request_reopen(struct store *s, const char *id, time_t deadline,
			 const struct store_recipient *recipients, size_t n)
{
	return s->ops->request_reopen(s, id, deadline, recipients, n);
}

int store_request_get(struct store *s, const char *id, time_t now,
		      struct store_request *out)
{
	return s->ops->request_get(s, id, now, out);
}

int store_request_status(struct store *s, const char *id, time_t now,
			 struct store_request *out)
{
	return s->ops->request_status(s, id, now, out);
}

int store_request_previous(struct store *s, const char *tenant,
			   const char *subject, const char *id,
			   struct store_request *out)
{
	return s->ops->request_previous(s, tenant, subject, id, out);
}

int store_review_get(struct store *s, const char *token, time_t now,
		     struct store_review *out)
{
	return s->ops->review_get(s, token, now, out);
}

int store_decide_ex(struct store *s, const char *token, const char *nonce,
		    int approve, const char *reason, const char *remote_addr,
		    const char *user_agent, time_t now, int *recorded)
{
	return s->ops->decide_ex(s, token, nonce, approve, reason, remote_addr,
				 user_agent, now, recorded);
}

int store_decide(struct store *s, const char *token, const char *nonce,
		 int approve, const char *reason, const char *remote_addr,
		 const char *user_agent, time_t now)
{
	return store_decide_ex(s, token, nonce, approve, reason, remote_addr,
			       user_agent, now, NULL);
}

int store_settle_expired(struct store *s, time_t now, long *settled)
{
	return s->ops->settle_expired(s, now, settled);
}

int store_state_counts(struct store *s, long counts[4])
{
	return s->ops->state_counts(s, counts);
}

int store_prune(struct store *s, time_t before, long max, long *pruned)
{
	return s->ops->prune(s, before, max, pruned);
}

int store_reclaim(struct store *s, long max_pages, long *freed)
{
	return s->ops->reclaim(s, max_pages, freed);
}

int store_baseline_put(struct store *s, const char *tenant,
		       const char *repository, const char *gate,
		       const char *commit, const char *doc_json,
		       time_t recorded)
{
	return s->ops->baseline_put(s, tenant, repository, gate, commit,
				    doc_json, recorded);
}

int store_baseline_lookup(struct store *s, const char *tenant,
			  const char *repository, const char *gate,
			  const char *const *commits, size_t n,
			  store_baseline_fn fn, void *ud)
{
	return s->ops->baseline_lookup(s, tenant, repository, gate, commits, n,
				       fn, ud);
}

int store_notify_claim(struct store *s, const char *id, const char *kind,
		       const char *recipient, long seq, time_t now)
{
	return s->ops->notify_claim(s, id, kind, recipient, seq, now);
}

int store_notify_claimed(struct store *s, const char *id, const char *kind,
			 const char *recipient, long seq)
{
	return s->ops->notify_claimed(s, id, kind, recipient, seq);
}

int store_notify_candidates(struct store *s, time_t since, char (**ids)[33],
			    size_t *n)
{
	return s->ops->notify_candidates(s, since, ids, n);
}

int store_notify_unclaim(struct store *s, const char *id, const char *kind,
			 const char *recipient, long seq)
{
	return s->ops->notify_unclaim(s, id, kind, recipient, seq);
}

int store_recipients_add(struct store *s, const char *id,
			 const struct store_recipient *recipients, size_t n)
{
	return s->ops->recipients_add(s, id, recipients, n);
}

int store_resume_add(struct store *s, const char *id, const char *tenant,
		     const char *ci, const char *target, const char *match,
		     time_t now)
{
	if (!store_text_ok(ci, 15) || !target || strlen(target) > STORE_MAX_RESUME)
		return error("store: a resume needs a CI name and a target of at"
			     " most %d bytes", STORE_MAX_RESUME);
	return s->ops->resume_add(s, id, tenant, ci, target, match, now);
}

int store_resume_attach(struct store *s, const char *ci, const char *match,
			const char *target, time_t now)
{
	if (!target || strlen(target) > STORE_MAX_RESUME)
		return error("store: a resume target is at most %d bytes",
			     STORE_MAX_RESUME);
	return s->ops->resume_attach(s, ci, match, target, now);
}

int store_resume_due(struct store *s, time_t now, size_t max,
		     struct store_resume **out, size_t *n)
{
	return s->ops->resume_due(s, now, max, out, n);
}

int store_resume_claim(struct store *s, const char *id, enum req_state outcome,
		       time_t now)
{
	return s->ops->resume_claim(s, id, outcome, now);
}

int store_resume_finish(struct store *s, const char *id, enum resume_end end,
			time_t next_at, time_t now)
{
	return s->ops->resume_finish(s, id, end, next_at, now);
}

int store_resume_state(struct store *s, const char *id, char state[16],
		       int *attempts)
{
	return s->ops->resume_state(s, id, state, attempts);
}
