/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpuid: what pvhv shows and hides through CPUID, MSRs and unknown ports.
 *
 * cmdline: vcpus=N (the domain's vCPU count, default 1).
 */
#include "guest.h"

GUEST_NAME("cpuid");

#define MSR_EFER 0xc0000080u
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_SVME (1ull << 12)
#define GP_VECTOR 13

int main(const struct pvhv_start_info *si)
{
	uint32_t a, b, c, d, max_basic, max_ext;
	char vendor[13];

	cpuid(0, 0, &max_basic, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';
	cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
	gprintf("vendor \"%s\", max basic leaf 0x%x, max extended leaf 0x%x\n", vendor,
		max_basic, max_ext);

	uint32_t ecx1, edx1;
	cpuid(1, 0, &a, &b, &ecx1, &edx1);
	check(ecx1 & (1u << 31), "CPUID.1:ECX[31] hypervisor bit set (ecx 0x%08x)", ecx1);
	check(!(ecx1 & (1u << 5)), "VMX hidden (CPUID.1:ECX[5])");
	check(!(ecx1 & (1u << 3)), "MONITOR hidden (CPUID.1:ECX[3])");
	check(!(ecx1 & (1u << 26)), "XSAVE hidden (CPUID.1:ECX[26])");
	check(!(ecx1 & (1u << 27)), "OSXSAVE clear (CPUID.1:ECX[27])");
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		check(!(c & (1u << 2)), "SVM hidden (CPUID.80000001:ECX[2], ecx 0x%08x)", c);
	} else {
		check(1, "SVM hidden (no leaf 0x80000001)");
	}
	if (max_basic >= 0xa) {
		cpuid(0xa, 0, &a, &b, &c, &d);
		check(a == 0, "PMU hidden (CPUID.A:EAX 0x%08x)", a);
	} else {
		check(1, "PMU hidden (max basic leaf 0x%x < 0xa)", max_basic);
	}

	cpuid(PVHV_CPUID_BASE, 0, &a, &b, &c, &d);
	check(b == PVHV_CPUID_SIGNATURE_EBX && c == PVHV_CPUID_SIGNATURE_ECX &&
		      d == PVHV_CPUID_SIGNATURE_EDX,
	      "leaf 0x%x signature 0x%08x 0x%08x 0x%08x is \"pvhvpvhvpvhv\"", PVHV_CPUID_BASE, b,
	      c, d);
	check(a >= PVHV_CPUID_INFO, "leaf 0x%x max leaf 0x%x >= 0x%x", PVHV_CPUID_BASE, a,
	      PVHV_CPUID_INFO);

	uint64_t vcpus = cmdline_u64("vcpus", 1);
	cpuid(PVHV_CPUID_INFO, 0, &a, &b, &c, &d);
	check(a == PVHV_ABI_VERSION, "leaf 0x%x EAX 0x%x == ABI version 0x%x", PVHV_CPUID_INFO, a,
	      PVHV_ABI_VERSION);
	check(c == 0, "leaf 0x%x ECX (vCPU index) %u == 0", PVHV_CPUID_INFO, c);
	check(d == vcpus, "leaf 0x%x EDX (vCPU count) %u == vcpus=%lu", PVHV_CPUID_INFO, d, vcpus);
	check(b & PVHV_CPUID_F_COM1, "leaf 0x%x EBX 0x%x has F_COM1", PVHV_CPUID_INFO, b);
	int amd = streq(vendor, "AuthenticAMD"), intel = streq(vendor, "GenuineIntel");
	if (amd || intel)
		check(!!(b & PVHV_CPUID_F_VMMCALL) == amd, "F_VMMCALL %s on %s",
		      b & PVHV_CPUID_F_VMMCALL ? "set" : "clear", vendor);

	uint64_t v = 0;
	int rc = try_rdmsr(0xc0011234, &v);
	check(rc == -GP_VECTOR, "rdmsr 0xc0011234 faults with #GP (rc %d, value 0x%lx)", rc, v);
	rc = try_rdmsr(0x12345678, &v);
	check(rc == -GP_VECTOR, "rdmsr 0x12345678 faults with #GP (rc %d, value 0x%lx)", rc, v);

	uint64_t efer = 0;
	rc = try_rdmsr(MSR_EFER, &efer);
	check(rc == 0, "rdmsr EFER works (rc %d)", rc);
	check((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	      "EFER 0x%lx has LME and LMA", efer);
	check(!(efer & EFER_SVME), "EFER 0x%lx has SVME clear", efer);
	rc = try_wrmsr(MSR_EFER, efer | EFER_SVME);
	check(rc == -GP_VECTOR, "wrmsr EFER|SVME faults with #GP (rc %d)", rc);
	rc = try_rdmsr(MSR_EFER, &v);
	check(rc == 0 && v == efer, "EFER unchanged afterwards (0x%lx)", v);

	uint8_t b8 = inb(0x1234);
	uint16_t w16 = inw(0x1234);
	uint32_t l32 = inl(0x1234);
	check(b8 == 0xff, "inb 0x1234 = 0x%x", b8);
	check(w16 == 0xffff, "inw 0x1234 = 0x%x", w16);
	check(l32 == 0xffffffff, "inl 0x1234 = 0x%x", l32);
	outb(0x1234, 0x5a);
	check(inb(0x1234) == 0xff, "inb 0x1234 still 0xff after a write");

	finish();
}
