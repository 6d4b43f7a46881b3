# doxy_filter.sed — Doxygen's INPUT_FILTER for siamspice's headers (make doc).
# The headers carry plain C comments, written for a reader of the header;
# this turns them into Doxygen's without changing the files: the opening
# paragraph documents the file, a comment on a line of its own documents
# the declaration after it, and a comment after a member on its line
# documents that member. SSP_API is dropped (it is only a visibility mark).
1s|^/\* \(.*\)|/** \\file\n * \1|
s|^\([ ]*\)/\* |\1/** |
s|\([;,{]\)\([ ]*\)/\* |\1\2/**< |
s|^SSP_API ||
# "<name>" in a comment's prose is a placeholder, not an HTML tag.
/^ *\(\/\*\|\*\)/s|<\([A-Za-z_][A-Za-z_0-9 ]*\)>|\\<\1\\>|g
