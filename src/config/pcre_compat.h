// Apache config patterns (RewriteRule, RewriteCond, <FilesMatch>, ...) are PCRE, but itkd
// compiles them with glibc's regcomp(REG_EXTENDED), where some PCRE syntax means something
// else without any error ("\d" matches a literal 'd', "[\]]" is a backslash then a literal
// "]"). Patterns are rewritten here into POSIX ERE with the same meaning, or refused with
// a message naming the construct and what to write instead.
//
// Apache (2.4.40 on) compiles with DOTALL and DOLLAR_ENDONLY, so '.' and a final '$' already
// mean the same in glibc; a '^' or '$' elsewhere is refused, as glibc matches it at newlines.
// Left as is, as ERE cannot say it: where alternatives overlap, POSIX takes the longest and
// PCRE the first, which can change what a group captures (not whether the pattern matches).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace itkd {

// Rewrites a PCRE pattern as written in Apache configs into an equivalent POSIX ERE for
// glibc regcomp, or explains why it can't be. A pattern with nothing to translate comes
// back byte-identical.
Result<std::string> pcre_to_ere(std::string_view pattern);

}  // namespace itkd
