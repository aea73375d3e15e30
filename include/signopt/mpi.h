/* signopt/mpi.h — the MPI transport, in its own library (libsignopt_mpi, link with -lsignopt_mpi -lsignopt and
 * your MPI): one worker per rank, on a private duplicate of a communicator you hand in, so that signopt's
 * collectives never match yours and your program may use MPI beside it. Parameter-server rounds use MPI_Gather to
 * rank 0 and MPI_Bcast; allgather rounds MPI_Allgather. The fp32 mean is gathered and summed in rank order (never
 * MPI_Allreduce, whose order is unspecified), so every result equals the in-process transport's bit for bit.
 * MPI errors come back (MPI_ERRORS_RETURN on the duplicate) as SO_ECOMM with MPI's own message.
 *
 * The rest of signopt (signopt.h, libsignopt) needs no MPI at all. */
#ifndef SIGNOPT_MPI_H
#define SIGNOPT_MPI_H

#include <mpi.h>
#include "signopt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One worker per rank of comm (worker j = rank j of comm). MPI must be initialized (SO_EINVAL otherwise). The
 * transport works on MPI_Comm_dup(comm), freed by so_transport_destroy, which must come before MPI_Finalize. */
SO_API so_transport *so_transport_mpi_comm(MPI_Comm comm);
/* so_transport_mpi_comm(MPI_COMM_WORLD). */
SO_API so_transport *so_transport_mpi(void);

#ifdef __cplusplus
}
#endif
#endif
