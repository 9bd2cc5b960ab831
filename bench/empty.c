/* The floor of any process: exec, the loader, exit (callgrind). */
int
main(void)
{
	return 0;
}
