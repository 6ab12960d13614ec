# consult with nothing pasted runs the rules first, so the kb's opening question is asked
printf 'consult\nquit\n' | env -u FIXIT_RULES fixit repl | grep '^Question'
