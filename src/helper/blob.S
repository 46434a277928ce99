/* blob.S - dm-helper, built static, inside the plugin's binary: the
 * helper image the plugin loads carries it (see volume.c). */
	.section .rodata
	.global dm_helper_bin
	.global dm_helper_bin_end
	.balign 16
dm_helper_bin:
	.incbin HELPER_BIN
dm_helper_bin_end:
	.section .note.GNU-stack,"",@progbits
