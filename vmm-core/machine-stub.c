/* Placeholder so the machine library is never empty; removed when machine.c lands. */
int vmm_machine_stub (void);
int
vmm_machine_stub (void)
{
  return 0;
}
