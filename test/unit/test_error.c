/*
 * test_error.c - errors as values (dm.h): a kind set where the failure is
 * understood survives the context callers add, and an error saved before
 * a cleanup comes back whatever the cleanup failed with.
 */
#include "unit.h"

static void a_kind_survives_wrapping(void **state)
{
	(void)state;
	assert_int_equal(dm_error_kind(DM_ERR_LINK, "the link to %s died",
				       "node2"), -1);
	assert_int_equal(dm_error_wrap("sync"), -1);
	assert_string_equal(dm_errmsg(), "sync: the link to node2 died");
	assert_int_equal(dm_errkind(), DM_ERR_LINK);
	assert_string_equal(dm_errkind_name(dm_errkind()), "link lost");
}

static void a_plain_error_has_no_kind(void **state)
{
	(void)state;
	dm_error_kind(DM_ERR_CONFLICT, "a name in use");
	dm_error("something else");
	assert_int_equal(dm_errkind(), DM_ERR_FAILED);
	assert_int_equal(dm_error_as(DM_ERR_DEST), -1);
	assert_int_equal(dm_errkind(), DM_ERR_DEST);
	assert_string_equal(dm_errmsg(), "something else");
	dm_clear_error();
	assert_false(dm_error_isset());
	assert_int_equal(dm_errkind(), DM_ERR_FAILED);
}

static void a_saved_error_outlives_the_cleanup(void **state)
{
	struct dm_err why;

	(void)state;
	dm_error_kind(DM_ERR_INTERRUPTED, "interrupted");
	dm_error_wrap("create");
	dm_error_save(&why);
	dm_error_kind(DM_ERR_DEST, "node2 stays unreachable");
	assert_int_equal(dm_error_restore(&why), -1);
	assert_string_equal(dm_errmsg(), "create: interrupted");
	assert_int_equal(dm_errkind(), DM_ERR_INTERRUPTED);
	assert_true(dm_error_isset());
}

static void every_kind_has_a_name(void **state)
{
	(void)state;
	assert_string_equal(dm_errkind_name(DM_ERR_FAILED), "failed");
	assert_string_equal(dm_errkind_name(DM_ERR_USAGE), "usage");
	assert_string_equal(dm_errkind_name(DM_ERR_SOURCE), "source");
	assert_string_equal(dm_errkind_name(DM_ERR_DEST), "destination");
	assert_string_equal(dm_errkind_name(DM_ERR_INTERRUPTED), "interrupted");
	assert_string_equal(dm_errkind_name(DM_ERR_CONFLICT),
			    "conflict at the destination");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_kind_survives_wrapping),
		cmocka_unit_test(a_plain_error_has_no_kind),
		cmocka_unit_test(a_saved_error_outlives_the_cleanup),
		cmocka_unit_test(every_kind_has_a_name),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
