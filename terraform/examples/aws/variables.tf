variable "region" {
  description = "AWS region for the control plane and the pool."
  type        = string
}

variable "private_subnet_ids" {
  description = "Two or more private subnets (different availability zones) with a NAT gateway or VPC endpoints: the control plane function and its database."
  type        = list(string)
}

variable "run_subnet_ids" {
  description = "Subnets the runs start in; public subnets work with assign_public_ip."
  type        = list(string)
}

variable "package_path" {
  description = "The zip `pushflow lambda package -o pushflow-lambda.zip` built."
  type        = string
  default     = "pushflow-lambda.zip"
}

variable "image" {
  description = "Default image for runs: one with pushflow and your flows' dependencies."
  type        = string
  default     = null
}
