/* A shared object without the descriptor symbol: not a sluice plugin. */
int noexport_something(void);
int noexport_something(void)
{
    return 42;
}
