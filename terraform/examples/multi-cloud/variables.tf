variable "region" {
  description = "AWS region for the control plane and the ECS pool."
  type        = string
}

variable "private_subnet_ids" {
  description = "Two or more private AWS subnets (different availability zones) with a NAT gateway: the control plane function and its database. The NAT is also how it reaches Google and Azure."
  type        = list(string)
}

variable "run_subnet_ids" {
  description = "AWS subnets ECS runs start in."
  type        = list(string)
}

variable "package_path" {
  description = "The zip `pushflow lambda package --pools ecs,cloud-run,aci -o pushflow-lambda.zip` built."
  type        = string
  default     = "pushflow-lambda.zip"
}

variable "gcp_project" {
  description = "Google Cloud project for the Cloud Run pool."
  type        = string
}

variable "gcp_region" {
  description = "Cloud Run region, e.g. europe-west1."
  type        = string
}

variable "azure_subscription_id" {
  description = "Azure subscription for the ACI pool."
  type        = string
}

variable "azure_location" {
  description = "Azure region for the ACI pool, e.g. westeurope."
  type        = string
}

variable "images" {
  description = "Default run image per pool, each in a registry that cloud can pull from: keys ecs, cloud_run, aci."
  type = object({
    ecs       = string
    cloud_run = string
    aci       = string
  })
}
