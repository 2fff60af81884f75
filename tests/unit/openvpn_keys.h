/*
 * openvpn_keys.h - the two throwaway keys (`openvpn --genkey`) of the
 * OpenVPN server that test_openvpn.c's recorded exchanges came from:
 * tls-auth (TA_KEY, with the comment lines openvpn writes) and tls-crypt
 * (TC_KEY). Shared by the unit test and the fuzz target, which replays
 * against the same keys.
 */
#ifndef WW_TEST_OPENVPN_KEYS_H
#define WW_TEST_OPENVPN_KEYS_H

static const char TA_KEY[] = "#\n"
			     "# 2048 bit OpenVPN static key\n"
			     "#\n"
			     "-----BEGIN OpenVPN Static key V1-----\n"
			     "829e369c3f9e9a74859dd862215371f5\n"
			     "18b9598b797f1236eb603ebca4d5a1fd\n"
			     "0f6b7c8ca9429f523be1000bafb6223e\n"
			     "2f6915693aa32ea0670e81c5c0cc09fa\n"
			     "79327de4cb82a94fce86f2568292c615\n"
			     "1c4b8472a2aafbc7f126bbd025f1dd2a\n"
			     "5c0ffcb158d5613186240951df39b38d\n"
			     "7b5fc4b0022a485eed7ff8b4fe4940d6\n"
			     "1cf0bb9bb7626a44a0d7444c238041de\n"
			     "291bc6eb7a3cca11a5e1adaa0b716a79\n"
			     "3611a81841612aa45eae1bc4100aa10b\n"
			     "64b4fd1842db7519d9b1791d0d64a94d\n"
			     "4b962bf2de41d85671410b7ff8cdb87c\n"
			     "cd481b65684234ee385c54c1ec7f57e2\n"
			     "240a0fd8afa997b2445806e8034da85e\n"
			     "291d688f18ca94b836fd8c2f9f0ec21c\n"
			     "-----END OpenVPN Static key V1-----\n";

static const char TC_KEY[] = "-----BEGIN OpenVPN Static key V1-----\n"
			     "ccfa466fea25d2ae854d4c7b88fa964a\n"
			     "d09c7390af02c1ebeb3ef20d05f5d288\n"
			     "3240f7dc5a6ad2c827e4bffdb8d81e2e\n"
			     "d4ea4f5c8a920acd3d34b9bece9c9e4e\n"
			     "4f6f93354a8b40f21b004180b75100e5\n"
			     "1448ff64be22c8d246f1b68065a9aaa3\n"
			     "3111f50221ed143b45faafc252e48088\n"
			     "e2fce0e2071f569953fa84971b1da0aa\n"
			     "ef1eeac0ad30735478748315aac20dde\n"
			     "de8660279e67ff10ede6973b915b3d13\n"
			     "5684580af5a47f4f9138dc46ce3d2d87\n"
			     "7f305adb923e68dd8ae5cee7dd4121d5\n"
			     "d2b1391cc233744be113b18adfafae9d\n"
			     "80282e7e58007df33f1e6c59f5e15483\n"
			     "a4e341f826e8974a67500e2d239ed39b\n"
			     "a8bc98911495a1962a2fa0632de584a8\n"
			     "-----END OpenVPN Static key V1-----\n";

#endif
