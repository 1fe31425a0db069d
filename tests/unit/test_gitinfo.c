/* test_gitinfo.c - what of a remote URL greenlight keeps as the repository. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "gitinfo.h"

static void strip(const char *in, const char *want)
{
	char buf[256];

	strcpy(buf, in);
	gitinfo_strip_credentials(buf);
	assert_string_equal(buf, want);
}

static void test_strip_credentials(void **state)
{
	(void)state;
	strip("https://gitlab-ci-token:abc123@gitlab.example.com/acme/model.git",
	      "https://gitlab.example.com/acme/model.git");
	strip("https://ghp_token@github.com/acme/model", "https://github.com/acme/model");
	strip("https://u:p@ss@host:8443/x", "https://host:8443/x");
	strip("ssh://git@host/x.git", "ssh://host/x.git");
	/* nothing to drop */
	strip("https://github.com/acme/model.git", "https://github.com/acme/model.git");
	strip("https://host/path/with@sign", "https://host/path/with@sign");
	strip("https://host?q=a@b", "https://host?q=a@b");
	/* scp-like and local paths are not URLs */
	strip("git@github.com:acme/model.git", "git@github.com:acme/model.git");
	strip("/srv/git/model", "/srv/git/model");
	strip("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
