/* libFuzzer target for the config reader and setup's editor: any bytes must
 * parse or fail cleanly (ASan/UBSan watch), a parse must free without
 * recursion, and when the input is a config object, setup's edits must keep
 * every byte and read back (config_text_set checks that itself and fails
 * otherwise; here a failure other than "not an object" is a bug). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_edit.h"
#include "json5.h"

static int only_insertions(const char *orig, size_t olen, const char *now, size_t nlen)
{
	size_t j = 0;

	for (size_t i = 0; i < olen; i++) {
		while (j < nlen && now[j] != orig[i])
			j++;
		if (j++ >= nlen)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"gateway.mode", "gateway.port", "gateway.auth.token",
					   "agents.defaults.workspace"};
	cJSON *root = NULL, *v;
	ocr_error err = {0};
	struct config_text t;
	bool changed = false;

	if (json5_parse((const char *)data, size, "fuzz", &root, &err) == 0) {
		(void)json5_depth(root);
		json5_delete(root);
	}
	if (config_text_init(&t, "fuzz", (const char *)data, size, &err) < 0)
		return 0;
	v = cJSON_CreateString("x\"\\\n");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t before_len = t.len;
		char *before = malloc(before_len + 1);

		memcpy(before, t.text, before_len + 1);
		if (config_text_set(&t, keys[i], v, i == 1, &changed, &err) == 0 && i != 1 &&
		    !only_insertions(before, before_len, t.text, t.len))
			abort(); /* an insertion lost a byte */
		else if (strstr(err.msg, "would not") != NULL)
			abort(); /* an edit that does not read back */
		free(before);
		err.msg[0] = '\0';
	}
	cJSON_Delete(v);
	config_text_release(&t);
	return 0;
}
