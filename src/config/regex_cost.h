// Patterns from the config (<FilesMatch>, <LocationMatch>, <DirectoryMatch>,
// ProxyPassMatch, Header edit) are POSIX extended regular expressions compiled by glibc's
// regcomp, which copies a repeated sub-expression once per repetition: "c+++...+" or
// "(a{100}){100}" build trees exponential in the pattern's length. The master parses the
// config as root, and every worker parses it too, so such a pattern is refused before it
// reaches regcomp (the fuzzer found the first form exhausting 2 GiB).
#pragma once

#include <string_view>

#include "common/result.h"

namespace itkd {

// Refuses adjacent repetition operators ("++", "*?": undefined in POSIX ERE, and PCRE's
// lazy/possessive forms mean something else) and patterns whose repetitions would expand
// to more than a few thousand copies of their atoms.
Result<void> check_regex_cost(std::string_view pattern);

}  // namespace itkd
